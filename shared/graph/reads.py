"""Graph reads: items by the pages' forms, and their expansions nested as the pages show them
(each relationship under its type, its destination entity under the entity's type)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.er.access import ErCollection, ErCollections, Role
from shared.er.rows import GraphItemRow
from shared.er.tables import ENTITIES, RELATIONSHIPS, ItemTable
from shared.er.views import ItemView
from shared.errors import BadRequest, NotFound
from shared.graph import store
from shared.graph.forms import Level, Selection
from shared.paging import PageRequest

# Paths an expansion may return for one page of roots; beyond, narrow the query.
MAX_RESULTS = 10000


@dataclass(frozen=True, slots=True)
class Graph:
    """One caller's view: the collection asked about, and every collection it may read
    (cross-collection relationships are followed into those only)."""

    pool: asyncpg.Pool
    collection: ErCollection
    readable: dict[str, ErCollection]
    system: bool = False
    v12: bool = False

    @classmethod
    async def open(
        cls, pool: asyncpg.Pool, principal_id: int, name: str, system: bool, v12: bool
    ) -> Graph:
        collections = ErCollections(pool)
        target = await collections.require(principal_id, name, Role.readonly)
        readable = {c.id: c for c in await collections.list_for(principal_id)}
        return cls(pool, target, readable, system, v12)

    async def render(self, table: ItemTable, rows: list[GraphItemRow]) -> list[dict[str, Any]]:
        """Rows of any readable collections, rendered as ER reads render them, in row order."""
        groups: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            groups[row.item_collection].append(index)
        items: list[dict[str, Any]] = [{} for _ in rows]
        for collection_id, indexes in groups.items():
            view = ItemView(table, self.readable[collection_id], self.system, self.v12)
            for index, item in zip(
                indexes, await view.render(self.pool, [rows[i] for i in indexes]), strict=True
            ):
                items[index] = item
        return items


def _ids(selection: Selection) -> list[str] | None:
    return list(selection.ids) if selection.ids else None


async def items(
    graph: Graph, table: ItemTable, selection: Selection, page: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of the collection's entities or relationships that ``selection`` names."""
    args = (graph.collection.id, _ids(selection), selection.type_id)
    total = await store.count_items(graph.pool, table, *args)
    rows = await store.page_items(graph.pool, table, *args, page.after_as(str, ""), page.fetch)
    if selection.single and not rows:
        noun = table.noun
        raise NotFound(f"No {noun} '{selection.ids[0]}' in ercollection '{graph.collection.id}'")
    shown, paging = page.page(total, rows, lambda row: row.id)
    return await graph.render(table, shown), paging


async def expand(graph: Graph, roots: list[dict[str, Any]], levels: tuple[Level, ...]) -> int:
    """Nest each root's expansion into it; returns how many relationships the first level has."""
    if not roots or not levels:
        return 0
    rows = await store.expand(
        graph.pool,
        graph.collection.id,
        [root["id"] for root in roots],
        levels,
        list(graph.readable),
        MAX_RESULTS + 1,
    )
    if len(rows) > MAX_RESULTS:
        raise BadRequest(
            f"The expansion reaches more than {MAX_RESULTS} relationships; ask for fewer "
            "entities per page (first, size or PageSize) or name narrower types"
        )
    relationships = await _by_keys(graph, RELATIONSHIPS, {(r.collection_id, r.id) for r in rows})
    embedded = {(r.to_collection, r.to_id) for r in rows if levels[r.depth - 1].embed}
    entities = await _by_keys(graph, ENTITIES, embedded)
    nodes: dict[tuple[str, ...], dict[str, Any]] = {}
    by_root = {root["id"]: root for root in roots}
    for row in sorted(rows, key=lambda r: (r.depth, r.path)):
        path = tuple(row.path)
        found = relationships.get((row.collection_id, row.id))
        parent = by_root.get(row.source_id) if row.depth == 1 else nodes.get(path[:-1])
        destination = entities.get((row.to_collection, row.to_id))
        embed = levels[row.depth - 1].embed
        if found is None or parent is None or (embed and destination is None):
            continue  # deleted between the walk and the read: left out, as after the delete
        relationship = dict(found)
        parent.setdefault(relationship["relationshipType"], []).append(relationship)
        if embed and destination is not None:
            entity = dict(destination)
            relationship[entity["entityType"]] = entity
            nodes[path] = entity
    return sum(1 for row in rows if row.depth == 1)


async def _by_keys(
    graph: Graph, table: ItemTable, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    if not keys:
        return {}
    ordered = sorted(keys)
    rows = await store.items_by_keys(graph.pool, table, ordered)
    rendered = await graph.render(table, rows)
    return {(row.item_collection, row.id): item for row, item in zip(rows, rendered, strict=True)}
