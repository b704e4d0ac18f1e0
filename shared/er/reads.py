"""Reading entities and relationships back: pages (by id, or by distance), one item, an item's
versions, and collection statistics. Paging is shared/paging.py's, as everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg

from shared.er.access import ErCollection
from shared.er.filters import ListQuery
from shared.er.rows import ItemRow
from shared.er.store import reads as reads_store
from shared.er.views import ItemView
from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest


async def list_items(
    pool: asyncpg.Pool,
    view: ItemView,
    type_id: str | None,
    options: ListQuery,
    page: PageRequest,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of items and its paging block."""
    table, collection = view.table, view.collection
    if options.distance is None:
        after: Any = page.after_as(str, "")
        last_of: Callable[[ItemRow], Any] = _by_id  # or _by_distance, below
    else:
        after = page.after_as(list, None)
        if after is not None and not _distance_key(after):
            raise BadRequest("The continuationToken header is not a token this service issued")
        last_of = _by_distance
    total = await reads_store.count_list(pool, table, collection.id, type_id, options)
    rows = await reads_store.page_list(
        pool, table, collection.id, type_id, options, after, page.fetch
    )
    shown, paging = page.page(total, rows, last_of)
    return await view.render(pool, shown), paging


def _by_id(row: ItemRow) -> str:
    return row.id


def _by_distance(row: ItemRow) -> list[Any]:
    return [row.distance, row.id]


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
    row = await reads_store.get_item(pool, view.table, view.collection.id, item_id, type_id)
    if row is None:
        raise NotFound(view.missing(item_id, type_id))
    return await view.render(pool, [row])


async def item_versions(
    pool: asyncpg.Pool, view: ItemView, item_id: str, page: PageRequest, type_id: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every version of one item (of ``type_id``), oldest first: those upserts replaced and
    deletes removed, each delete's tombstone, then the current one if the item exists. Versions
    count on across a delete and a re-create (migration 029); 404 when there is none."""
    table, collection = view.table, view.collection
    total = await reads_store.count_versions(pool, table, collection.id, item_id, type_id)
    if total is None:
        raise NotFound(view.missing(item_id, type_id))
    after = page.after_as(int, 0)
    rows = await reads_store.versions(
        pool, table, collection.id, item_id, after, page.fetch, type_id
    )
    shown, paging = page.page(total, rows, lambda row: row.version)
    return await view.render(pool, shown), paging


async def collection_stats(pool: asyncpg.Pool, collection: ErCollection) -> list[dict[str, Any]]:
    """The docs' shape (Summary, Entities, Relationships), plus Brickyard's own counts."""
    entity_counts = await reads_store.entity_type_counts(pool, collection.id)
    relationship_counts = await reads_store.relationship_type_counts(pool, collection.id)
    entities = sum(count.n for count in entity_counts)
    relationships = sum(count.n for count in relationship_counts)
    across = sum(count.across for count in relationship_counts)
    return [
        {
            "Summary": {
                "Entities": entities,
                "Relationships": relationships,
                "Assets": sum(count.assets for count in entity_counts),
                "Spaces": sum(count.spaces for count in entity_counts),
                "CrossCollectionRelationships": across,
            },
            "Entities": {count.type_id: count.n for count in entity_counts},
            "Relationships": {count.type_id: count.n for count in relationship_counts},
            "erCollectionId": collection.id,
            "schemaCollectionId": collection.schema_collection_id,
        }
    ]
