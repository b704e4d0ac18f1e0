"""SQL for the paged lists of type schemas, with thin typed functions over it.

Each page is keyset-paged (after a type id, or a type id and version) and comes with the total
its list has, counted by a second statement.
"""

from __future__ import annotations

from shared.db import Executor, fetch_as
from shared.schemas.rows import TypeSchemaRow
from shared.schemas.store.typeschemas import SCHEMA_COLUMNS

FROM_TYPES = "FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by"
# Every version of the collection's active types, optionally in one state.
COUNT_ACTIVE_VERSIONS = """
SELECT count(*) FROM type_schemas
WHERE collection_id = $1 AND schema_type = $2 AND active AND ($3::text IS NULL OR state = $3)
"""
PAGE_ACTIVE_VERSIONS = f"""
SELECT {SCHEMA_COLUMNS} {FROM_TYPES}
WHERE t.collection_id = $1 AND t.schema_type = $2 AND t.active
  AND ($3::text IS NULL OR t.state = $3) AND (t.type_id, t.version) > ($4, $5)
ORDER BY t.type_id, t.version LIMIT $6
"""
# The current version of every active type of a schema type, across collections.
COUNT_ALL = """
SELECT count(*) FROM type_schemas
WHERE schema_type = $1 AND is_current AND active AND ($2::text IS NULL OR state = $2)
"""
PAGE_ALL = f"""
SELECT {SCHEMA_COLUMNS} {FROM_TYPES}
WHERE t.schema_type = $1 AND t.is_current AND t.active AND ($2::text IS NULL OR t.state = $2)
  AND t.type_id > $3
ORDER BY t.type_id LIMIT $4
"""
TITLES = """
SELECT type_id FROM type_schemas
WHERE collection_id = $1 AND schema_type = $2 AND is_current AND active
ORDER BY type_id
"""
COUNT_VERSIONS = "SELECT count(*) FROM type_schemas WHERE type_id = $1 AND schema_type = $2"
PAGE_VERSIONS = f"""
SELECT {SCHEMA_COLUMNS}
FROM type_schemas t LEFT JOIN principals p ON p.id = t.created_by
WHERE t.type_id = $1 AND t.schema_type = $2 AND t.version > $3
ORDER BY t.version LIMIT $4
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
Page = tuple[list[TypeSchemaRow], int]


async def all_of_type(
    db: Executor, schema_type: str, state: str | None, after: str, limit: int
) -> Page:
    rows = await fetch_as(db, TypeSchemaRow, PAGE_ALL, schema_type, state, after, limit)
    return rows, await db.fetchval(COUNT_ALL, schema_type, state)


async def active_versions(
    db: Executor,
    collection_id: str,
    schema_type: str,
    state: str | None,
    after: tuple[str, int],
    limit: int,
) -> Page:
    args = (collection_id, schema_type, state)
    rows = await fetch_as(db, TypeSchemaRow, PAGE_ACTIVE_VERSIONS, *args, *after, limit)
    return rows, await db.fetchval(COUNT_ACTIVE_VERSIONS, *args)


async def tagged(
    db: Executor, collection_id: str, tag: str, after: tuple[str, int], limit: int
) -> Page:
    rows = await fetch_as(db, TypeSchemaRow, PAGE_TAGGED, collection_id, tag, *after, limit)
    return rows, await db.fetchval(COUNT_TAGGED, collection_id, tag)


async def titles(db: Executor, collection_id: str, schema_type: str) -> list[str]:
    return [r["type_id"] for r in await db.fetch(TITLES, collection_id, schema_type)]


async def count_versions(db: Executor, type_id: str, schema_type: str) -> int:
    total: int = await db.fetchval(COUNT_VERSIONS, type_id, schema_type)
    return total


async def versions(
    db: Executor, type_id: str, schema_type: str, after: int, limit: int
) -> list[TypeSchemaRow]:
    return await fetch_as(db, TypeSchemaRow, PAGE_VERSIONS, type_id, schema_type, after, limit)


async def collection_tags(db: Executor, collection_id: str) -> set[str]:
    """The tags of every entity type the collection ever held (any version, active or not)."""
    return {r[0] for r in await db.fetch(COLLECTION_TAGS, collection_id)}
