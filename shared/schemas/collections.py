"""Schema collections: create, read, list, stats, delete.

A collection follows one release line. ``release`` at creation pins it to a version of that
line (a sync without ``version`` then brings it to that version); without ``release`` (or with
``"latest"``) it follows the line's newest release. A sync that names ``version`` moves the pin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.paging import PageRequest
from shared.releases.catalog import BRICK_LINE, LATEST, ReleaseCatalog
from shared.schemas import acl
from shared.schemas.render import ALL_TYPES
from shared.schemas.rows import SchemaCollectionRow
from shared.schemas.store import collections as collections_store
from shared.schemas.store import grants as grants_store
from shared.schemas.sysdata import Caller
from shared.text import iso

# ':' for the doc's own ids (Brick:Draft). Its upper-cased form prefixes generated type ids.
COLLECTION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\-]{0,99}$")
# The doc's stats keys, per schema type.
COUNT_KEYS = {
    "entitytypes": "entityTypeSchemaCount",
    "relationshiptypes": "relationshipTypeSchemaCount",
    "messagetypes": "messageTypeSchemaCount",
    "eventtypes": "eventTypeSchemaCount",
}


def collection_json(row: SchemaCollectionRow) -> dict[str, Any]:
    return {
        "schemaCollectionId": row.id,
        "namespace": row.namespace,
        "releaseLine": row.release_line,
        "release": row.pinned_version or LATEST,
        "syncedReleases": row.synced_versions,
        "createdBy": row.created_by_name,
        "createdOn": iso(row.created_at),
        "updatedOn": iso(row.updated_at),
    }


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise BadRequest(f"'{key}' must be a non-empty string")
    return value


def parse_create(body: Any) -> tuple[str, str, str | None]:
    """(collection id, release line, release version or None for 'follow the newest')."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    collection_id = body.get("schemaCollectionId")
    if not isinstance(collection_id, str) or not collection_id:
        raise BadRequest("'schemaCollectionId' is required")
    if not COLLECTION_ID.match(collection_id) or "__" in collection_id:
        raise BadRequest(
            f"'schemaCollectionId' must match {COLLECTION_ID.pattern} without '__' "
            "(its upper-cased form prefixes every type id, e.g. BRICK_1_4__AHU)"
        )
    line = _optional_text(body, "releaseLine") or BRICK_LINE
    release = _optional_text(body, "release")
    return collection_id, line, None if release == LATEST else release


@dataclass(slots=True)
class SchemaCollections:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    async def create(self, body: Any, caller: Caller) -> dict[str, Any]:
        """The doc's system data, then the collection; its creator becomes its owner."""
        collection_id, line, release = parse_create(body)
        if release is not None:
            await self.catalog.resolve(line, release)
        elif not await self.catalog.versions(line):
            raise BadRequest(f"Release line '{line}' has no releases")
        async with self.pool.acquire() as conn, conn.transaction():
            await collections_store.lock(conn, collection_id)
            created = await collections_store.insert(
                conn, collection_id, line, release, caller.principal_id
            )
            if created is None:
                raise Conflict(
                    f"A schema collection '{collection_id}' already exists or was deleted"
                )
            await grants_store.grant_owner(conn, created.id, caller.principal_id)
        row = await self.get(collection_id)
        return {**caller.sys_data(created.created_at, True), **collection_json(row)}

    async def get(self, collection_id: str) -> SchemaCollectionRow:
        row = await collections_store.get(self.pool, collection_id)
        if row is None:
            raise NotFound(f"Schema collection '{collection_id}' not found")
        return row

    async def writable(
        self, collection_id: str, principal_id: int, minimum: acl.Role
    ) -> SchemaCollectionRow:
        """The collection, if the caller holds at least ``minimum`` on it (404, else 403)."""
        row = await self.get(collection_id)
        await acl.require_role(self.pool, row.id, principal_id, minimum)
        return row

    async def page(self, page: PageRequest) -> tuple[list[str], dict[str, Any]]:
        """The doc's list of collection ids."""
        if page.after is not None and not isinstance(page.after, str):
            raise BadRequest("The continuationToken is not valid for this list")
        rows = await collections_store.page(self.pool, page.after, page.fetch)
        total = await collections_store.count(self.pool)
        shown, paging = page.page(total, rows, lambda row: row.id_key)
        return [row.id for row in shown], paging

    async def stats(self, collection_id: str) -> dict[str, Any]:
        """The doc's counts of active types, then Brickyard's detail per schema type."""
        row = await self.get(collection_id)
        counts = await collections_store.stats(self.pool, row.id)
        stats: dict[str, Any] = {
            key: counts[t].active if t in counts else 0 for t, key in COUNT_KEYS.items()
        }
        stats.update(collection_json(row))
        for schema_type in ALL_TYPES:
            found = counts.get(schema_type)
            stats[schema_type] = {
                "active": found.active if found else 0,
                "inactive": found.inactive if found else 0,
                "versions": found.versions if found else 0,
                "release": row.synced_versions.get(schema_type),
            }
        return stats

    async def delete(self, collection_id: str, caller: Caller) -> dict[str, Any]:
        """Owners only; 412 while it has active schemas. Its id stays taken (409 on create)."""
        row = await self.writable(collection_id, caller.principal_id, acl.Role.owner)
        async with self.pool.acquire() as conn, conn.transaction():
            await collections_store.lock(conn, row.id)
            if await collections_store.has_active_schemas(conn, row.id):
                raise PreconditionFailed(
                    f"Schema collection '{row.id}' still has active schemas; delete them first"
                )
            deleted_at = await collections_store.delete(conn, row.id, caller.principal_id)
            if deleted_at is None:
                raise NotFound(f"Schema collection '{collection_id}' not found")
        return {**caller.sys_data(deleted_at, False), "schemaCollectionId": row.id}
