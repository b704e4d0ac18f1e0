"""Transitive reachability ("everything AHU-1 feeds"), with the path to each entity.

Breadth first, one set-based query per level: each entity is visited once, at its least depth,
so cycles end the walk rather than loop it. A recursive CTE would enumerate paths rather than
entities, which grows exponentially where many paths lead to the same entity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.er.tables import ENTITIES
from shared.errors import BadRequest, NotFound
from shared.graph import store
from shared.graph.reads import Graph
from shared.graph.rows import ReachStep
from shared.paging import PageRequest
from shared.text import whole_number

MAX_DEPTH = 100
DEFAULT_DEPTH = 10
MAX_REACHED = 10000
Key = tuple[str, str]  # (collection, entity id)


@dataclass(frozen=True, slots=True)
class Walk:
    start: str
    relationship_types: list[str] | None
    outward: bool
    max_depth: int


def walk_from(query: dict[str, str], start: str) -> Walk:
    """``relationshipType`` (comma-separated; a type id, ``BRICK_1_4__feeds`` or ``feeds``; all
    when absent), ``direction`` (``out`` or ``in``), ``maxDepth`` (1 to ``MAX_DEPTH``)."""
    types = [t for t in query.get("relationshipType", "").split(",") if t.strip()]
    direction = query.get("direction", "out")
    if direction not in ("out", "in"):
        raise BadRequest("Query parameter 'direction' must be out or in")
    depth_text = query.get("maxDepth", str(DEFAULT_DEPTH))
    depth = whole_number(depth_text, 1, MAX_DEPTH)
    if depth is None:
        raise BadRequest(f"Query parameter 'maxDepth' must be a whole number from 1 to {MAX_DEPTH}")
    return Walk(start, [t.strip() for t in types] or None, direction == "out", depth)


async def reachable(
    graph: Graph, walk: Walk, page: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of the entities reachable from ``walk.start``, nearest first."""
    origin: Key = (graph.collection.id, walk.start)
    found = await store.count_items(graph.pool, ENTITIES, graph.collection.id, [walk.start], None)
    if not found:
        raise NotFound(f"No entity '{walk.start}' in ercollection '{graph.collection.id}'")
    steps: dict[Key, ReachStep] = {}
    order: list[tuple[int, Key]] = []
    frontier = [origin]
    for depth in range(1, walk.max_depth + 1):
        rows = await store.step(
            graph.pool, frontier, walk.outward, list(graph.readable), walk.relationship_types
        )
        frontier = []
        for row in rows:
            key = (row.to_collection, row.to_id)
            if key == origin or key in steps:
                continue
            steps[key] = row
            order.append((depth, key))
            frontier.append(key)
        if len(order) > MAX_REACHED:
            raise BadRequest(
                f"More than {MAX_REACHED} entities are reachable within maxDepth "
                f"{walk.max_depth}; lower maxDepth or name the relationship types"
            )
        if not frontier:
            break
    after = page.after_as(int, 0)
    shown = order[after : after + page.size]
    reached = await store.items_by_keys(graph.pool, ENTITIES, [key for _, key in shown])
    rendered = await graph.render(ENTITIES, reached)
    entities = {(r.item_collection, r.id): e for r, e in zip(reached, rendered, strict=True)}
    data = [
        {
            "id": key[1],
            "erCollectionId": key[0],
            "depth": depth,
            "entity": entities.get(key),
            "path": _path(steps, origin, key, walk.outward),
        }
        for depth, key in shown
    ]
    more = after + page.size < len(order)
    token = page.token_for(after + page.size) if more else None
    return data, {"totalCount": len(order), "continuationToken": token}


def _path(
    steps: dict[Key, ReachStep], origin: Key, key: Key, outward: bool
) -> list[dict[str, Any]]:
    """The relationships walked from the origin to ``key``, in walking order."""
    path = []
    while key != origin:
        row = steps[key]
        source = (row.from_collection, row.from_id) if outward else key
        destination = key if outward else (row.from_collection, row.from_id)
        path.append(
            {
                "relationshipId": row.relationship_id,
                "relationshipType": row.relationship_type,
                "relationshipERCollectionId": row.relationship_collection,
                "sourceEntityId": source[1],
                "sourceERCollectionId": source[0],
                "destinationEntityId": destination[1],
                "destinationERCollectionId": destination[0],
            }
        )
        key = (row.from_collection, row.from_id)
    return path[::-1]
