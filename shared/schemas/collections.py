"""Schema collections: create, read, list, stats, delete.

A collection follows one release line. ``release`` at creation pins it to a version of that
line (a sync without ``version`` then brings it to that version); without ``release`` (or with
``"latest"``) it follows the line's newest release. A sync that names ``version`` moves the pin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.releases.catalog import BRICK_LINE, LATEST, ReleaseCatalog
from shared.schemas import store
from shared.schemas.paging import PageRequest
from shared.schemas.render import SCHEMA_TYPES

COLLECTION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def collection_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "schemaCollectionId": row["id"],
        "namespace": row["namespace"],
        "releaseLine": row["release_line"],
        "release": row["pinned_version"] or LATEST,
        "syncedReleases": row["synced_versions"],
        "createdBy": row["created_by_name"],
        "createdOn": iso(row["created_at"]),
        "updatedOn": iso(row["updated_at"]),
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

    async def create(self, body: Any, principal: Principal) -> dict[str, Any]:
        collection_id, line, release = parse_create(body)
        if release is not None:
            await self.catalog.resolve(line, release)
        elif not await self.catalog.versions(line):
            raise BadRequest(f"Release line '{line}' has no releases")
        created = await self.pool.fetchval(
            store.INSERT_COLLECTION, collection_id, line, release, principal.id
        )
        if created is None:
            raise Conflict(f"A schema collection '{collection_id}' already exists")
        return collection_json(await self.get(collection_id))

    async def get(self, collection_id: str) -> asyncpg.Record:
        row = await self.pool.fetchrow(store.GET_COLLECTION, collection_id)
        if row is None:
            raise NotFound(f"Schema collection '{collection_id}' not found")
        return row

    async def page(self, page: PageRequest) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if page.after is not None and not isinstance(page.after, str):
            raise BadRequest("The continuationToken is not valid for this list")
        rows = await self.pool.fetch(store.PAGE_COLLECTIONS, page.after, page.fetch)
        total = await self.pool.fetchval(store.COUNT_COLLECTIONS)
        shown, paging = page.page(total, rows, lambda row: row["id_key"])
        return [collection_json(row) for row in shown], paging

    async def stats(self, collection_id: str) -> dict[str, Any]:
        row = await self.get(collection_id)
        counts = {
            r["schema_type"]: r for r in await self.pool.fetch(store.COLLECTION_STATS, row["id"])
        }
        stats = collection_json(row)
        for schema_type in SCHEMA_TYPES:
            found = counts.get(schema_type)
            stats[schema_type] = {
                "active": found["active"] if found else 0,
                "inactive": found["inactive"] if found else 0,
                "versions": found["versions"] if found else 0,
                "release": row["synced_versions"].get(schema_type),
            }
        return stats

    async def delete(self, collection_id: str) -> None:
        row = await self.get(collection_id)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(store.LOCK_COLLECTION, row["id"])
            if await conn.fetchval(store.HAS_ACTIVE_SCHEMAS, row["id"]):
                raise PreconditionFailed(
                    f"Schema collection '{row['id']}' still has active schemas; delete them first"
                )
            await conn.execute(store.DELETE_COLLECTION, row["id"])
