"""Reading entities and relationships back: pages (by id, or by distance), one item, an item's
versions, and collection statistics. Paging is shared/paging.py's, as everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from shared.er.access import ErCollection
from shared.er.filters import ListQuery
from shared.er.views import ItemTable, ItemView
from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest

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


def list_sql(table: ItemTable, options: ListQuery) -> tuple[str, str]:
    """The count and page statements of a list. $1 collection, $2 type (or NULL), then the
    options' arguments, then the keyset and the limit."""
    where = f"collection_id = $1 AND ($2::text IS NULL OR {table.type_column} = $2)"
    if options.condition:
        where += f" AND {options.condition}"
    count = f"SELECT count(*) FROM {table.table} WHERE {where}"
    after, limit = 3 + len(options.args), 4 + len(options.args)
    if options.distance is None:
        page = (
            f"SELECT {table.columns} FROM {table.table} WHERE {where} AND id > ${after}::text "
            f"ORDER BY id LIMIT ${limit}"
        )
        return count, page
    direction, beyond = ("DESC", "<") if options.descending else ("ASC", ">")
    page = (
        f"SELECT * FROM (SELECT {table.columns}, {options.distance} AS distance "
        f"FROM {table.table} WHERE {where}) AS d "
        f"WHERE (${after}::jsonb IS NULL OR (distance, id) {beyond} "
        f"((${after}::jsonb ->> 0)::float8, ${after}::jsonb ->> 1)) "
        f"ORDER BY distance {direction}, id {direction} LIMIT ${limit}"
    )
    return count, page


async def list_items(
    pool: asyncpg.Pool,
    view: ItemView,
    type_id: str | None,
    options: ListQuery,
    page: PageRequest,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of items and its paging block."""
    table, collection = view.table, view.collection
    count_sql, page_sql = list_sql(table, options)
    if options.distance is None:
        after: Any = page.after_as(str, "")
        last_of: Callable[[asyncpg.Record], Any] = _by_id  # or _by_distance, below
    else:
        after = page.after_as(list, None)
        if after is not None and not _distance_key(after):
            raise BadRequest("The continuationToken header is not a token this service issued")
        last_of = _by_distance
    args = (collection.id, type_id, *options.args)
    total = await pool.fetchval(count_sql, *args[: 2 + options.condition_args])
    rows = await pool.fetch(page_sql, *args, after, page.fetch)
    shown, paging = page.page(total, rows, last_of)
    return await view.render(pool, shown), paging


def _by_id(row: asyncpg.Record) -> str:
    return str(row["id"])


def _by_distance(row: asyncpg.Record) -> list[Any]:
    return [row["distance"], row["id"]]


def _distance_key(after: list[Any]) -> bool:
    return (
        len(after) == 2
        and isinstance(after[0], float | int)
        and not isinstance(after[0], bool)
        and isinstance(after[1], str)
    )


async def get_item(
    pool: asyncpg.Pool, view: ItemView, item_id: str, type_id: str | None = None
) -> list[dict[str, Any]]:
    """The item as a one-element list (the docs' shape); 404 if absent (or of another type)."""
    row = await pool.fetchrow(view.table.get_sql, view.collection.id, item_id, type_id)
    if row is None:
        raise NotFound(view.missing(item_id, type_id))
    return await view.render(pool, [row])


async def item_versions(
    pool: asyncpg.Pool, view: ItemView, item_id: str, page: PageRequest, type_id: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every version of one item, oldest first: those upserts replaced, then the current one.
    A type never changes, so the current row's says whether the item is of ``type_id``."""
    table, collection = view.table, view.collection
    total = await pool.fetchval(table.count_versions_sql, collection.id, item_id, type_id)
    if total is None:
        raise NotFound(view.missing(item_id, type_id))
    after = page.after_as(int, 0)
    rows = await pool.fetch(table.versions_sql, collection.id, item_id, after, page.fetch)
    shown, paging = page.page(total, rows, lambda row: row["version"])
    return await view.render(pool, shown), paging


async def collection_stats(pool: asyncpg.Pool, collection: ErCollection) -> list[dict[str, Any]]:
    """The docs' shape (Summary, Entities, Relationships), plus Brickyard's own counts."""
    entity_counts = await pool.fetch(ENTITY_TYPE_COUNTS, collection.id)
    relationship_counts = await pool.fetch(RELATIONSHIP_TYPE_COUNTS, collection.id)
    entities = sum(row["n"] for row in entity_counts)
    relationships = sum(row["n"] for row in relationship_counts)
    across = sum(row["across"] for row in relationship_counts)
    return [
        {
            "Summary": {
                "Entities": entities,
                "Relationships": relationships,
                "Assets": sum(row["assets"] for row in entity_counts),
                "Spaces": sum(row["spaces"] for row in entity_counts),
                "CrossCollectionRelationships": across,
            },
            "Entities": {row["type_id"]: row["n"] for row in entity_counts},
            "Relationships": {row["type_id"]: row["n"] for row in relationship_counts},
            "erCollectionId": collection.id,
            "schemaCollectionId": collection.schema_collection_id,
        }
    ]
