"""Items as reads serve them: the stored body plus what the docs show beside it (``isActive``,
both collection ids of a relationship) and, with ``includeSystemData``, its ``sysData``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from shared.er.access import ErCollection
from shared.er.rows import ItemRow, SchemaPlace, Writer
from shared.er.store import reads as reads_store
from shared.er.tables import ItemTable


def schema_metadata(place: SchemaPlace) -> dict[str, Any]:
    """The docs' 1.2 ``schemaMetadata``; class names in type metadata carry no namespace."""
    namespace = place.type_id.split("__", 1)[0]
    metadata = place.metadata or {}
    top = metadata.get("topClass")
    return {
        "entityType": place.type_id,
        "rootEntityType": f"{namespace}__{top}" if top else place.type_id,
        "schemaCollectionId": place.collection_id,
        "entityIsSubClassOf": [f"{namespace}__{a}" for a in metadata.get("ancestors") or []],
        "tags": list(place.tags),
    }


def sys_timestamp(moment: datetime) -> str:
    """The docs' sysTimestamp form, in UTC: 20180403T13:17:57.637."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


@dataclass(frozen=True, slots=True)
class ItemView:
    """How one read shows the items of one table of one collection."""

    table: ItemTable
    collection: ErCollection
    system: bool = False
    # Service version 1.2 (``v=1.2``): entities also show schemaMetadata and version.
    v12: bool = False

    def missing(self, item_id: str, type_id: str | None) -> str:
        of_type = f" of type '{type_id}'" if type_id else ""
        return f"No {self.table.noun} '{item_id}'{of_type} in ercollection '{self.collection.id}'"

    def item_json(self, row: ItemRow, system: dict[str, Any] | None) -> dict[str, Any]:
        body = dict(row.body)
        if self.table.item_kind == "relationship":
            # Inside one collection the client may leave both out; the docs always show both.
            body.setdefault("sourceERCollectionId", self.collection.id)
            destination = row.destination_collection_id or self.collection.id
            body.setdefault("destinationERCollectionId", destination)
        if row.deleted:  # a delete's tombstone in an item's versions (migration 029)
            body["isActive"] = False
        else:  # deletes are not soft: every item a read finds is active
            body.setdefault("isActive", True)
        if system is not None:
            # A file entity's own sysData (its file's fields) keeps them beside the system's.
            kept = body.get("sysData")
            body["sysData"] = {**kept, **system} if isinstance(kept, dict) else system
        return body

    async def render(self, pool: asyncpg.Pool, rows: Sequence[ItemRow]) -> list[dict[str, Any]]:
        writers = await self.writers(pool, rows) if self.system and rows else None
        schemas = None
        if self.v12 and self.table.item_kind == "entity" and rows:
            types = sorted({row.type_id for row in rows})
            found = await reads_store.current_schemas(pool, types)
            schemas = {place.type_id: schema_metadata(place) for place in found}
        items = []
        for row in rows:
            system = None
            if writers is not None:
                system = self.system_data(row, writers.get((row.id, row.transaction_id)))
            item = self.item_json(row, system)
            if schemas is not None:
                item.setdefault("schemaMetadata", schemas.get(row.type_id))
                item.setdefault("version", row.version)
            items.append(item)
        return items

    async def writers(
        self, pool: asyncpg.Pool, rows: Sequence[ItemRow]
    ) -> dict[tuple[str, str], Writer]:
        """Who wrote each shown (item, transaction)."""
        found = await reads_store.system_data(
            pool,
            self.table.item_kind,
            [row.id for row in rows],
            [row.transaction_id for row in rows],
            [row.type_id for row in rows],
        )
        return {(writer.id, writer.transaction_id): writer for writer in found}

    def system_data(self, row: ItemRow, writer: Writer | None) -> dict[str, Any]:
        noun = "Entity" if self.table.item_kind == "entity" else "Relationship"
        data: dict[str, Any] = {
            "sysSchemaVersion": writer.schema_version if writer else None,
            "sysERCollectionId": self.collection.id,
            "sysCorrelationId": writer.correlation_id if writer else None,
            "sysTimestamp": sys_timestamp(row.updated_at),
            "sysClientId": None,  # Brickyard tokens name a principal, not a client application
            "sysRequestorId": writer.requestor if writer else None,
            f"sys{noun}Version": row.version,
            "sysTransactionId": row.transaction_id,
        }
        if noun == "Relationship":
            data["sysRelationshipType"] = row.type_id
        return data
