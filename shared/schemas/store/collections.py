"""SQL for schema collections and their tombstones, with thin typed functions over it."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import Executor, fetch_as, fetchrow_as
from shared.schemas.rows import NewSchemaCollection, SchemaCollectionRow, SchemaTypeCounts

COLLECTION_COLUMNS = """
c.id, c.namespace, c.release_line, c.pinned_version, c.release_version, c.synced_versions,
c.created_at, c.updated_at, p.name AS created_by_name
"""
# A deleted collection's id stays taken (its tombstone), like a live one: both are a 409.
INSERT_COLLECTION = """
INSERT INTO schema_collections (id, id_key, namespace, release_line, pinned_version, created_by)
SELECT $1, lower($1), upper($1), $2, $3, $4
WHERE NOT EXISTS (SELECT 1 FROM deleted_schema_collections WHERE id_key = lower($1))
ON CONFLICT DO NOTHING
RETURNING id, created_at
"""
GET_COLLECTION = f"""
SELECT {COLLECTION_COLUMNS}
FROM schema_collections c JOIN principals p ON p.id = c.created_by
WHERE c.id_key = lower($1)
"""
# Keyed by the lower-cased id, so a create (any spelling) and a delete of one id serialise.
LOCK_COLLECTION = "SELECT pg_advisory_xact_lock(hashtext('schema-collection:' || lower($1)))"
COUNT_COLLECTIONS = "SELECT count(*) FROM schema_collections"
PAGE_COLLECTIONS = f"""
SELECT {COLLECTION_COLUMNS}, c.id_key
FROM schema_collections c JOIN principals p ON p.id = c.created_by
WHERE $1::text IS NULL OR c.id_key > $1
ORDER BY c.id_key LIMIT $2
"""
COLLECTION_STATS = """
SELECT schema_type,
       count(*) FILTER (WHERE is_current AND active) AS active,
       count(*) FILTER (WHERE is_current AND NOT active) AS inactive,
       count(*) AS versions
FROM type_schemas WHERE collection_id = $1 GROUP BY schema_type
"""
HAS_ACTIVE_SCHEMAS = """
SELECT EXISTS (SELECT 1 FROM type_schemas WHERE collection_id = $1 AND is_current AND active)
"""
DELETE_COLLECTION = """
WITH gone AS (DELETE FROM schema_collections WHERE id = $1 RETURNING id, id_key)
INSERT INTO deleted_schema_collections (id_key, id, deleted_by)
SELECT id_key, id, $2 FROM gone
RETURNING deleted_at
"""
RECORD_SYNC = """
UPDATE schema_collections
SET release_version = $2, synced_versions = synced_versions || jsonb_build_object($3::text, $2::text),
    pinned_version = CASE WHEN $4 THEN $5 ELSE pinned_version END, updated_at = now()
WHERE id = $1
"""
TOUCH_COLLECTION = "UPDATE schema_collections SET updated_at = now() WHERE id = $1"
NAMESPACE = "SELECT namespace FROM schema_collections WHERE id = $1"


async def lock(conn: asyncpg.Connection, collection_id: str) -> None:
    """Hold the collection's advisory lock until the caller's transaction ends."""
    await conn.execute(LOCK_COLLECTION, collection_id)


async def insert(
    conn: asyncpg.Connection,
    collection_id: str,
    release_line: str,
    pinned_version: str | None,
    created_by: int,
) -> NewSchemaCollection | None:
    """The new collection; None when the id is taken or was."""
    return await fetchrow_as(
        conn,
        NewSchemaCollection,
        INSERT_COLLECTION,
        collection_id,
        release_line,
        pinned_version,
        created_by,
    )


async def get(db: Executor, collection_id: str) -> SchemaCollectionRow | None:
    """The collection whose id matches in any case."""
    return await fetchrow_as(db, SchemaCollectionRow, GET_COLLECTION, collection_id)


async def page(db: Executor, after: str | None, limit: int) -> list[SchemaCollectionRow]:
    """Collections in order of their lower-cased id (``id_key``), after ``after``."""
    return await fetch_as(db, SchemaCollectionRow, PAGE_COLLECTIONS, after, limit)


async def count(db: Executor) -> int:
    total: int = await db.fetchval(COUNT_COLLECTIONS)
    return total


async def stats(db: Executor, collection_id: str) -> dict[str, SchemaTypeCounts]:
    """Counts of active and inactive types and of versions, by schema type."""
    counts = await fetch_as(db, SchemaTypeCounts, COLLECTION_STATS, collection_id)
    return {c.schema_type: c for c in counts}


async def has_active_schemas(db: Executor, collection_id: str) -> bool:
    return bool(await db.fetchval(HAS_ACTIVE_SCHEMAS, collection_id))


async def delete(conn: asyncpg.Connection, collection_id: str, deleted_by: int) -> datetime | None:
    """Replace the collection by its tombstone; when, or None if it was already gone."""
    deleted_at: datetime | None = await conn.fetchval(DELETE_COLLECTION, collection_id, deleted_by)
    return deleted_at


async def record_sync(
    conn: asyncpg.Connection,
    collection_id: str,
    version: str,
    schema_type: str,
    moves_pin: bool,
    new_pin: str | None,
) -> None:
    await conn.execute(RECORD_SYNC, collection_id, version, schema_type, moves_pin, new_pin)


async def touch(db: Executor, collection_id: str) -> None:
    await db.execute(TOUCH_COLLECTION, collection_id)


async def namespace(db: Executor, collection_id: str) -> str:
    found: str = await db.fetchval(NAMESPACE, collection_id)
    return found
