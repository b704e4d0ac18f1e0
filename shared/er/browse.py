"""A building engineer's view of one ER collection (issue 22): how many entities of each Brick
class, entities found by id or name, and the equipment -> point and feeds -> zone tree below
one entity, read from the collection's relationships by their Brick relation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.er.access import ErCollection
from shared.er.brick import BrickTypes
from shared.er.store import browse as store
from shared.er.store import reads as reads_store

SEARCH_LIMIT = 50
TREE_DEPTH = 4  # feeds levels below the chosen entity (AHU -> VAV -> zone ...)
TREE_EDGES = 500  # relationships read per level, so a hub cannot make a page huge
# Each direction of the two relations the tree follows: (relation, the entity is the source).
POINT_RELATIONS = {"hasPoint": True, "isPointOf": False}
FEED_RELATIONS = {"feeds": True, "isFedBy": False}


@dataclass
class Node:
    id: str
    name: str
    cls: str
    points: list[Node]
    feeds: list[Node]


async def class_counts(
    db: asyncpg.Pool, collection: ErCollection, types: BrickTypes
) -> list[dict[str, Any]]:
    """Entities per Brick class, most numerous first."""
    classes = types.class_of()
    rows = await reads_store.entity_type_counts(db, collection.id)
    counted = [{"class": classes.get(c.type_id, c.type_id), "n": c.n} for c in rows]
    return sorted(counted, key=lambda row: (-row["n"], row["class"]))


async def search(db: asyncpg.Pool, collection: ErCollection, text: str) -> list[dict[str, Any]]:
    rows = await store.search_entities(db, collection.id, text.strip(), SEARCH_LIMIT)
    return [{"id": r.id, "name": r.name, "type": r.entity_type} for r in rows]


def _types_of(types: BrickTypes, relations: dict[str, bool]) -> dict[str, bool]:
    return {t: relations[r] for t, r in types.relation_of().items() if r in relations}


async def _linked(
    db: asyncpg.Pool, collection: str, ids: list[str], relations: dict[str, bool]
) -> dict[str, list[tuple[str, str, str]]]:
    """For each entity: the (id, name, type) at the far end of the given relations' directions."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    if not relations or not ids:
        return found
    rows = await store.around(db, collection, ids, list(relations), TREE_EDGES)
    wanted = set(ids)
    for row in rows:
        forward = relations[row.relationship_type]
        near, far = (
            (row.source_entity_id, row.destination_entity_id)
            if forward else (row.destination_entity_id, row.source_entity_id)
        )  # fmt: skip
        if near in wanted:
            name = row.other_name or far
            found.setdefault(near, []).append((far, name, row.other_type or "-"))
    return found


async def tree(
    db: asyncpg.Pool, collection: ErCollection, types: BrickTypes, entity_id: str
) -> Node | None:
    """The entity, its points, and what it feeds (with their points), level by level."""
    row = await store.entity(db, collection.id, entity_id)
    if row is None:
        return None
    classes = types.class_of()
    points, feeds = _types_of(types, POINT_RELATIONS), _types_of(types, FEED_RELATIONS)
    root = Node(row.id, row.name or row.id, classes.get(row.entity_type, "-"), [], [])
    level, seen = {root.id: root}, {root.id}
    for _ in range(TREE_DEPTH + 1):
        ids = list(level)
        for near, ends in (await _linked(db, collection.id, ids, points)).items():
            level[near].points = [Node(i, n, classes.get(t, t), [], []) for i, n, t in ends]
        below: dict[str, Node] = {}
        for near, ends in (await _linked(db, collection.id, ids, feeds)).items():
            for far, name, type_id in ends:
                if far in seen:  # a loop of feeds (or a second path) is shown once
                    continue
                seen.add(far)
                node = Node(far, name, classes.get(type_id, type_id), [], [])
                level[near].feeds.append(node)
                below[far] = node
        if not below:
            break
        level = below
    return root
