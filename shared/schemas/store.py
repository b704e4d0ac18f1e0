"""SQL for schema collections and type schemas, and thin typed access to it."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from shared.db import Executor

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

SCHEMA_COLUMNS = """
t.type_id, t.version, t.collection_id, t.schema_type, t.schema, t.content_sha256, t.metadata,
t.tags, t.is_current, t.active, t.release_version, t.created_at, p.name AS created_by_name,
t.state, t.correlation_id, t.state_changed_at
"""
CURRENT_IN_COLLECTION = """
SELECT type_id, version, schema_type, content_sha256, active, release_version
FROM type_schemas WHERE collection_id = $1 AND is_current
"""
RETIRE_CURRENT = (
    "UPDATE type_schemas SET is_current = false WHERE type_id = ANY($1::text[]) AND is_current"
)
SET_ACTIVE = "UPDATE type_schemas SET active = $2 WHERE type_id = ANY($1::text[]) AND active <> $2"
# A version from a release is published (the release is); a posted one starts out new.
INSERT_VERSIONS = """
INSERT INTO type_schemas (type_id, version, collection_id, schema_type, schema, content_sha256,
                          metadata, tags, is_current, active, release_version, created_by,
                          state, correlation_id)
SELECT v.type_id, v.version, $1, $2, v.schema, v.sha, v.metadata,
       ARRAY(SELECT jsonb_array_elements_text(v.tags::jsonb)), true, true, $3, $4,
       CASE WHEN $3::text IS NULL THEN 'new' ELSE 'published' END, $11
FROM unnest($5::text[], $6::int[], $7::json[], $8::text[], $9::jsonb[], $10::text[])
     AS v(type_id, version, schema, sha, metadata, tags)
"""
OWNERS_ELSEWHERE = """
SELECT type_id, collection_id FROM type_schemas
WHERE type_id = ANY($2::text[]) AND is_current AND collection_id <> $1
"""
GET_TYPE = f"""
SELECT {SCHEMA_COLUMNS}
FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by
WHERE t.type_id = $1 AND t.schema_type = $2 AND ($3::int IS NULL AND t.is_current OR t.version = $3)
"""
COUNT_VERSIONS = "SELECT count(*) FROM type_schemas WHERE type_id = $1 AND schema_type = $2"
PAGE_VERSIONS = f"""
SELECT {SCHEMA_COLUMNS}
FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by
WHERE t.type_id = $1 AND t.schema_type = $2 AND t.version > $3
ORDER BY t.version LIMIT $4
"""
COUNT_CURRENT = """
SELECT count(*) FROM type_schemas
WHERE collection_id = $1 AND schema_type = $2 AND is_current AND active
"""
PAGE_CURRENT = f"""
SELECT {SCHEMA_COLUMNS}
FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by
WHERE t.collection_id = $1 AND t.schema_type = $2 AND t.is_current AND t.active AND t.type_id > $3
ORDER BY t.type_id LIMIT $4
"""
COUNT_TAGGED = """
SELECT count(*) FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'entitytypes' AND active AND tags @> ARRAY[$2::text]
"""
PAGE_TAGGED = f"""
SELECT {SCHEMA_COLUMNS}
FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by
WHERE t.collection_id = $1 AND t.schema_type = 'entitytypes' AND t.active
  AND t.tags @> ARRAY[$2::text] AND (t.type_id, t.version) > ($3, $4)
ORDER BY t.type_id, t.version LIMIT $5
"""
COLLECTION_TAGS = """
SELECT DISTINCT unnest(tags) FROM type_schemas WHERE collection_id = $1 AND schema_type = 'entitytypes'
"""
CURRENT_RELATIONSHIP_TYPES = """
SELECT type_id, metadata FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'relationshiptypes' AND is_current AND active
ORDER BY type_id
"""


async def current_versions(db: Executor, collection_id: str) -> dict[str, asyncpg.Record]:
    """Each type's current row in the collection (active or not), by type id."""
    return {r["type_id"]: r for r in await db.fetch(CURRENT_IN_COLLECTION, collection_id)}


async def insert_versions(
    conn: asyncpg.Connection,
    collection_id: str,
    schema_type: str,
    rows: list[tuple[str, int, dict[str, Any], str, dict[str, Any], list[str]]],
    release_version: str | None,
    principal_id: int | None,
    correlation_id: str | None = None,
) -> None:
    """Insert new current versions in one statement: (type_id, version, schema, sha, metadata, tags)."""
    if not rows:
        return
    # Tags travel as JSON text: asyncpg would read a list of lists as a 2-D array.
    columns = list(zip(*[(*row[:5], json.dumps(row[5])) for row in rows], strict=True))
    await conn.execute(
        INSERT_VERSIONS,
        collection_id,
        schema_type,
        release_version,
        principal_id,
        *[list(column) for column in columns],
        correlation_id,
    )


async def owners_elsewhere(db: Executor, collection_id: str, type_ids: list[str]) -> dict[str, str]:
    """The type ids among ``type_ids`` that another collection holds, with that collection."""
    rows = await db.fetch(OWNERS_ELSEWHERE, collection_id, type_ids)
    return {r["type_id"]: r["collection_id"] for r in rows}
