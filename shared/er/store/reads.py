"""Reading ER items back: lists (by id, or by distance), one item, an item's versions, the
collection's statistics, what reads show beside an item (who wrote it, its type's place in
its schema collection), and the pages of a Brick export.

The list and item statements are made per item table (``ItemTable``, shared/er/tables.py) from
the templates below."""

from __future__ import annotations

from typing import Any

from shared.db import Executor, fetch_as, fetchrow_as
from shared.er.filters import ListQuery
from shared.er.rows import (
    BrickType,
    EntityLine,
    EntityTypeCount,
    ItemRow,
    RelationshipLine,
    RelationshipTypeCount,
    SchemaPlace,
    Writer,
)
from shared.er.tables import ItemTable

# What an item read selects (a relationship adds its destination collection: item_columns).
ITEM_COLUMNS = "id, body, version, transaction_id, updated_at, {type} AS type_id"
GET_ITEM = (
    "SELECT {columns} FROM {table} "
    "WHERE collection_id = $1 AND id = $2 AND ($3::text IS NULL OR {type_column} = $3)"
)
# Every kept version (tombstones of deletes included, migration 029) and the current one, oldest
# first, after a version number, of one type or any: a re-created item may have another type.
VERSIONS = (
    "SELECT * FROM (SELECT id, body, version, transaction_id, written_at AS updated_at, "
    "{type_column} AS type_id{history_extra}, deleted FROM {versions_table} "
    "WHERE collection_id = $1 AND id = $2 "
    "UNION ALL SELECT {columns}, false FROM {table} "
    "WHERE collection_id = $1 AND id = $2) AS v "
    "WHERE version > $3 AND ($5::text IS NULL OR type_id = $5) ORDER BY version LIMIT $4"
)
# NULL when the item has no version (of that type): it never existed, or is of another type.
# A deleted item still has its history.
COUNT_VERSIONS = (
    "SELECT nullif(count(*), 0) FROM (SELECT {type_column} AS type_id FROM {versions_table} "
    "WHERE collection_id = $1 AND id = $2 UNION ALL SELECT {type_column} FROM {table} "
    "WHERE collection_id = $1 AND id = $2) AS v WHERE $3::text IS NULL OR type_id = $3"
)
# A list: $1 collection, $2 type (or NULL), then the options' arguments (shared/er/filters.py
# compiles the condition and the distance), then the keyset and the limit.
LIST_WHERE = "collection_id = $1 AND ($2::text IS NULL OR {type_column} = $2)"
COUNT_LIST = "SELECT count(*) FROM {table} WHERE {where}"
PAGE_BY_ID = (
    "SELECT {columns} FROM {table} WHERE {where} AND id > ${after}::text ORDER BY id LIMIT ${limit}"
)
PAGE_BY_DISTANCE = (
    "SELECT * FROM (SELECT {columns}, {distance} AS distance "
    "FROM {table} WHERE {where}) AS d "
    "WHERE (${after}::jsonb IS NULL OR (distance, id) {beyond} "
    "((${after}::jsonb ->> 0)::float8, ${after}::jsonb ->> 1)) "
    "ORDER BY distance {direction}, id {direction} LIMIT ${limit}"
)
# Entities whose top class is Equipment are the docs' "Assets", Location ones its "Spaces".
ENTITY_TYPE_COUNTS = """
SELECT entity_type AS type_id, count(*) AS n,
       count(*) FILTER (WHERE derived ->> 'brickEntityType' LIKE '%\\_\\_Equipment') AS assets,
       count(*) FILTER (WHERE derived ->> 'brickEntityType' LIKE '%\\_\\_Location') AS spaces
FROM er_entities
WHERE collection_id = $1 GROUP BY entity_type ORDER BY entity_type
"""
RELATIONSHIP_TYPE_COUNTS = """
SELECT relationship_type AS type_id, count(*) AS n,
       count(*) FILTER (WHERE destination_collection_id <> collection_id) AS across
FROM er_relationships
WHERE collection_id = $1 GROUP BY relationship_type ORDER BY relationship_type
"""
# Who wrote each (item, transaction), with which correlation id, against which schema version.
SYSTEM_DATA = """
SELECT u.id, u.transaction_id, l.correlation_id, p.name AS requestor,
       (SELECT version FROM type_schemas t WHERE t.type_id = u.type_id AND t.is_current)
           AS schema_version
FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, transaction_id, type_id)
LEFT JOIN status_logs l
       ON l.transaction_id = u.transaction_id AND l.item_kind = $1 AND l.item_id = u.id
LEFT JOIN jobs j ON j.request ->> 'transactionId' = u.transaction_id AND j.kind LIKE 'er\\_%'
LEFT JOIN principals p ON p.id = j.principal_id
"""
# An entity type's place in its schema collection, for version 1.2's schemaMetadata.
SCHEMA_METADATA = """
SELECT type_id, collection_id, metadata, tags FROM type_schemas
WHERE type_id = ANY($1::text[]) AND is_current
"""
# A Brick export: the release the collection's types come from, its current types, and its
# items in pages by id.
COLLECTION_RELEASE = """
SELECT coalesce(synced_versions->>'entitytypes', release_version, pinned_version) AS release
FROM schema_collections WHERE id = $1
"""
TYPES = """
SELECT type_id, schema_type, metadata FROM type_schemas
WHERE collection_id = $1 AND is_current AND active
ORDER BY type_id
"""
ENTITY_PAGE = """
SELECT id, entity_type, body->>'entityName' AS name FROM er_entities
WHERE collection_id = $1 AND id > $2 ORDER BY id LIMIT $3
"""
RELATIONSHIP_PAGE = """
SELECT id, relationship_type, source_entity_id, destination_collection_id, destination_entity_id
FROM er_relationships
WHERE collection_id = $1 AND id > $2 ORDER BY id LIMIT $3
"""


def item_columns(table: ItemTable) -> str:
    """The columns an item read selects from ``table``."""
    extra = ", destination_collection_id" if table.item_kind == "relationship" else ""
    return ITEM_COLUMNS.format(type=table.type_column) + extra


def _of(template: str, table: ItemTable, **more: object) -> str:
    return template.format(
        columns=item_columns(table),
        table=table.table,
        type_column=table.type_column,
        versions_table=table.versions_table,
        **more,
    )


async def get_item(
    db: Executor, table: ItemTable, collection_id: str, item_id: str, type_id: str | None
) -> ItemRow | None:
    """The item, if it exists and is of ``type_id`` (None: any)."""
    return await fetchrow_as(db, ItemRow, _of(GET_ITEM, table), collection_id, item_id, type_id)


async def count_versions(
    db: Executor, table: ItemTable, collection_id: str, item_id: str, type_id: str | None
) -> int | None:
    """How many versions the item has (of ``type_id``); None when none."""
    total: int | None = await db.fetchval(
        _of(COUNT_VERSIONS, table), collection_id, item_id, type_id
    )
    return total


async def versions(
    db: Executor,
    table: ItemTable,
    collection_id: str,
    item_id: str,
    after: int,
    limit: int,
    type_id: str | None,
) -> list[ItemRow]:
    """Kept versions and the current one; ``deleted`` marks a delete's tombstone."""
    # A kept version's ends are in its body: a relationship's has no column of them.
    extra = ", NULL AS destination_collection_id" if table.item_kind == "relationship" else ""
    sql = _of(VERSIONS, table, history_extra=extra)
    return await fetch_as(db, ItemRow, sql, collection_id, item_id, after, limit, type_id)


def _list_where(table: ItemTable, options: ListQuery) -> str:
    where = LIST_WHERE.format(type_column=table.type_column)
    if options.condition:
        where += f" AND {options.condition}"
    return where


async def count_list(
    db: Executor, table: ItemTable, collection_id: str, type_id: str | None, options: ListQuery
) -> int:
    """How many items a list has (without the distance order's arguments: a count has no order)."""
    sql = COUNT_LIST.format(table=table.table, where=_list_where(table, options))
    args = (collection_id, type_id, *options.args)
    total: int = await db.fetchval(sql, *args[: 2 + options.condition_args])
    return total


async def page_list(
    db: Executor,
    table: ItemTable,
    collection_id: str,
    type_id: str | None,
    options: ListQuery,
    after: Any,
    limit: int,
) -> list[ItemRow]:
    """``limit`` items of a list after ``after``: an id, or with a distance order the last
    (distance, id) shown (None: from the start)."""
    where = _list_where(table, options)
    numbers = {"after": 3 + len(options.args), "limit": 4 + len(options.args)}
    if options.distance is None:
        sql = _of(PAGE_BY_ID, table, where=where, **numbers)
    else:
        direction, beyond = ("DESC", "<") if options.descending else ("ASC", ">")
        sql = _of(PAGE_BY_DISTANCE, table, where=where, distance=options.distance,
                  direction=direction, beyond=beyond, **numbers)  # fmt: skip
    return await fetch_as(db, ItemRow, sql, collection_id, type_id, *options.args, after, limit)


async def entity_type_counts(db: Executor, collection_id: str) -> list[EntityTypeCount]:
    """Per entity type: how many entities, and of them how many assets and spaces."""
    return await fetch_as(db, EntityTypeCount, ENTITY_TYPE_COUNTS, collection_id)


async def relationship_type_counts(db: Executor, collection_id: str) -> list[RelationshipTypeCount]:
    """Per relationship type: how many relationships, and of them how many cross collections."""
    return await fetch_as(db, RelationshipTypeCount, RELATIONSHIP_TYPE_COUNTS, collection_id)


async def system_data(
    db: Executor, item_kind: str, ids: list[str], transaction_ids: list[str], type_ids: list[str]
) -> list[Writer]:
    """Who wrote each (item, transaction) of the parallel lists, and more: ``SYSTEM_DATA``."""
    return await fetch_as(db, Writer, SYSTEM_DATA, item_kind, ids, transaction_ids, type_ids)


async def current_schemas(db: Executor, type_ids: list[str]) -> list[SchemaPlace]:
    """The current schema of each type: its collection, metadata and tags."""
    return await fetch_as(db, SchemaPlace, SCHEMA_METADATA, type_ids)


async def collection_release(db: Executor, schema_collection_id: str) -> str | None:
    """The release the schema collection's entity types come from, if known."""
    release: str | None = await db.fetchval(COLLECTION_RELEASE, schema_collection_id)
    return release


async def current_types(db: Executor, schema_collection_id: str) -> list[BrickType]:
    """The schema collection's current, active types, by id."""
    return await fetch_as(db, BrickType, TYPES, schema_collection_id)


async def entity_page(db: Executor, collection_id: str, after: str, limit: int) -> list[EntityLine]:
    return await fetch_as(db, EntityLine, ENTITY_PAGE, collection_id, after, limit)


async def relationship_page(
    db: Executor, collection_id: str, after: str, limit: int
) -> list[RelationshipLine]:
    return await fetch_as(db, RelationshipLine, RELATIONSHIP_PAGE, collection_id, after, limit)
