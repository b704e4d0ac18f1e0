"""Read access to type schemas for other services (the ER service validates against these).

This is the contract between the schema service and its readers: keep its signatures stable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.db import Executor
from shared.schemas.store import typeschemas as typeschemas_store


@dataclass(frozen=True, slots=True)
class TypeSchema:
    type_id: str
    version: int
    collection_id: str
    schema_type: str
    schema: dict[str, Any]
    content_sha256: str
    metadata: dict[str, Any]

    @property
    def class_name(self) -> str:
        """Entity types: the class without namespace (``AHU`` for ``BRICK_1_4__AHU``)."""
        return self.metadata.get("class") or self.type_id.split("__", 1)[-1]

    @property
    def lineage(self) -> set[str]:
        """Entity types: the class and every ancestor class, namespace-free."""
        return {self.class_name, *self.metadata.get("ancestors", [])}

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Relationship types: the allowed (source class, destination class) pairs."""
        return [(p["source"], p["destination"]) for p in self.metadata.get("pairs", [])]

    def allows(self, source: TypeSchema, destination: TypeSchema) -> bool:
        """Whether this relationship type admits entities of these two entity types."""
        source_lineage, destination_lineage = source.lineage, destination.lineage
        return any(s in source_lineage and d in destination_lineage for s, d in self.pairs)


_TypeKey = tuple[str, UUID, str, str]  # (collection, types generation, schema type, type id)


class CurrentTypeSchemas:
    """Current type schemas as of a collection's types generation (migration 025), process-wide.
    An entry never goes stale: a change to the collection's types makes a new generation, and
    the old entries simply stop being asked for (the oldest go when the cache is full)."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[_TypeKey, TypeSchema | None] = OrderedDict()

    def get(
        self, collection_id: str, generation: UUID, schema_type: str, type_ids: Iterable[str]
    ) -> dict[str, TypeSchema | None] | None:
        """Every type's schema (None: no current, active one), or None if one is not known."""
        known = {}
        for type_id in type_ids:
            key = (collection_id, generation, schema_type, type_id)
            if key not in self._entries:
                return None
            known[type_id] = self._entries[key]
        return known

    def put(
        self,
        collection_id: str,
        generation: UUID,
        schema_type: str,
        found: dict[str, TypeSchema | None],
    ) -> None:
        for type_id, type_schema in found.items():
            self._entries[(collection_id, generation, schema_type, type_id)] = type_schema
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


CURRENT = CurrentTypeSchemas()


async def current_type_schemas(
    db: Executor,
    collection_id: str,
    schema_type: str,
    type_ids: Iterable[str],
    generation: UUID | None = None,
) -> dict[str, TypeSchema]:
    """The current, active schema of each named type in one schema collection (absent: unknown).
    With the collection's types ``generation`` as its caller read it, what this process already
    read at that generation is answered without a query."""
    wanted = set(type_ids)
    if generation is not None:
        cached = CURRENT.get(collection_id, generation, schema_type, wanted)
        if cached is not None:
            return {type_id: found for type_id, found in cached.items() if found is not None}
    read_at, rows = await typeschemas_store.current_of_types(
        db, collection_id, schema_type, list(wanted)
    )
    found = {
        row.type_id: TypeSchema(
            row.type_id, row.version, row.collection_id, row.schema_type, row.schema,
            row.content_sha256, row.metadata,
        )
        for row in rows
    }  # fmt: skip
    if read_at is not None:  # the generation these rows are of, read with them
        CURRENT.put(
            collection_id, read_at, schema_type,
            {type_id: found.get(type_id) for type_id in wanted},
        )  # fmt: skip
    return found
