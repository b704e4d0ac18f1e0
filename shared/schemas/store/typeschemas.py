"""SQL for type schemas one type at a time, and the set-based writes of a sync or bulk post."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import Executor, fetch_as, fetchrow_as
from shared.schemas.rows import CurrentSchema, CurrentVersion, TypeMetadata, TypeSchemaRow

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
PUBLISH = """
UPDATE type_schemas SET state = 'published', state_changed_at = now()
WHERE type_id = $1 AND is_current AND state <> 'published'
RETURNING state_changed_at
"""
# With the collection's types generation (migration 025), read in the same snapshot: one row
# with NULL type columns when none of the types is there (none when the collection is not).
CURRENT_TYPE_SCHEMAS = """
SELECT s.types_generation AS generation, t.*
FROM schema_collections s
LEFT JOIN LATERAL (
    SELECT type_id, version, collection_id, schema_type, schema, content_sha256, metadata
    FROM type_schemas
    WHERE collection_id = $1 AND schema_type = $2 AND type_id = ANY($3::text[])
      AND is_current AND active
) AS t ON true
WHERE s.id = $1
"""
# A class's type id: an active type of that class before an inactive one.
CLASS_IDS = """
SELECT DISTINCT ON (metadata->>'class') metadata->>'class' AS class, type_id
FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'entitytypes' AND is_current
  AND metadata->>'class' = ANY($2::text[])
ORDER BY metadata->>'class', active DESC, type_id
"""
DESCENDANTS = """
SELECT type_id FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'entitytypes' AND is_current AND active
  AND metadata->'ancestors' ? $2
ORDER BY type_id
"""
CURRENT_ENTITY_TYPES = """
SELECT type_id, metadata FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'entitytypes' AND is_current AND active
ORDER BY type_id
"""
CURRENT_RELATIONSHIP_TYPES = """
SELECT type_id, metadata FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'relationshiptypes' AND is_current AND active
ORDER BY type_id
"""
ACTIVE_ENTITY_TYPE_IDS = """
SELECT type_id FROM type_schemas
WHERE collection_id = $1 AND schema_type = 'entitytypes' AND is_current AND active
  AND type_id = ANY($2::text[])
"""
VersionRow = tuple[str, int, dict[str, Any], str, dict[str, Any], list[str]]


async def current_versions(db: Executor, collection_id: str) -> dict[str, CurrentVersion]:
    """Each type's current row in the collection (active or not), by type id."""
    rows = await fetch_as(db, CurrentVersion, CURRENT_IN_COLLECTION, collection_id)
    return {row.type_id: row for row in rows}


async def insert_versions(
    conn: asyncpg.Connection,
    collection_id: str,
    schema_type: str,
    rows: list[VersionRow],
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


async def retire_current(conn: asyncpg.Connection, type_ids: list[str]) -> None:
    """The current versions of these types stop being current (a new version follows)."""
    await conn.execute(RETIRE_CURRENT, type_ids)


async def set_active(db: Executor, type_ids: list[str], active: bool) -> None:
    """Every version of these types, since a type's active flag holds for all its versions."""
    await db.execute(SET_ACTIVE, type_ids, active)


async def get(
    db: Executor, type_id: str, schema_type: str, version: int | None
) -> TypeSchemaRow | None:
    """The named version, or the current one (active or not) for None."""
    return await fetchrow_as(db, TypeSchemaRow, GET_TYPE, type_id, schema_type, version)


async def publish(db: Executor, type_id: str) -> datetime | None:
    """When the current version became published; None if it already was."""
    changed_at: datetime | None = await db.fetchval(PUBLISH, type_id)
    return changed_at


async def current_of_types(
    db: Executor, collection_id: str, schema_type: str, type_ids: list[str]
) -> tuple[UUID | None, list[CurrentSchema]]:
    """The current, active version of each of these types in the collection that has one, and
    the collection's types generation they were read at (None: there is no such collection)."""
    rows = await db.fetch(CURRENT_TYPE_SCHEMAS, collection_id, schema_type, type_ids)
    if not rows:
        return None, []
    found = [
        CurrentSchema(**{column: value for column, value in row.items() if column != "generation"})
        for row in rows
        if row["type_id"] is not None  # the one row of a collection that has none of the types
    ]
    generation: UUID = rows[0]["generation"]
    return generation, found


async def class_ids(db: Executor, collection_id: str, classes: list[str]) -> dict[str, str]:
    """The entity type id of each of these classes that the collection has a type of."""
    rows = await db.fetch(CLASS_IDS, collection_id, classes)
    return {r["class"]: r["type_id"] for r in rows}


async def descendants(db: Executor, collection_id: str, class_name: str) -> list[str]:
    """The active entity types that have ``class_name`` among their ancestors."""
    return [r["type_id"] for r in await db.fetch(DESCENDANTS, collection_id, class_name)]


async def current_entity_types(db: Executor, collection_id: str) -> list[TypeMetadata]:
    """The active entity types, by type id."""
    return await fetch_as(db, TypeMetadata, CURRENT_ENTITY_TYPES, collection_id)


async def current_relationship_types(db: Executor, collection_id: str) -> list[TypeMetadata]:
    """The active relationship types, by type id."""
    return await fetch_as(db, TypeMetadata, CURRENT_RELATIONSHIP_TYPES, collection_id)


async def active_entity_type_ids(db: Executor, collection_id: str, type_ids: list[str]) -> set[str]:
    """Those of ``type_ids`` that are active entity types of the collection."""
    return {r["type_id"] for r in await db.fetch(ACTIVE_ENTITY_TYPE_IDS, collection_id, type_ids)}
