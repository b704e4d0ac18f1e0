"""A collection's entity-type hierarchy: ``[{id, children: [...]}, ...]``.

A posted hierarchy is merged into the stored one and the answer is the whole stored
hierarchy, as the doc's example shows: each posted child takes its posted parent; a posted root
keeps the place it already has (so a subtree can be posted to extend a node), or becomes a root. A collection nobody posted a hierarchy for answers the one its entity types'
parents describe; a type with several parents appears under each, its subtree under the first
only, so the answer stays linear in the number of types. Everything is walked iteratively, so
depth is bounded only by the body limit.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from shared.db import Executor
from shared.errors import BadRequest, PayloadTooLarge, Unprocessable
from shared.schemas.store import collections as collections_store
from shared.schemas.store import hierarchy as hierarchy_store
from shared.schemas.store import typeschemas as typeschemas_store

MAX_NODES = 10000
Edge = tuple[str, str | None]


def forest(edges: list[Edge]) -> list[dict[str, Any]]:
    """Nodes from (child, parent) edges in order; each id expanded once (its first place)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for child, parent in edges:
        children[parent].append(child)
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    stack: list[tuple[str, list[dict[str, Any]]]] = [(r, roots) for r in reversed(children[None])]
    while stack:
        node_id, siblings = stack.pop()
        node: dict[str, Any] = {"id": node_id, "children": []}
        siblings.append(node)
        if node_id in nodes:
            continue
        nodes[node_id] = node
        stack.extend((c, node["children"]) for c in reversed(children.get(node_id, [])))
    return roots


def parse_tree(body: Any) -> list[tuple[str, str | None]]:
    """The posted nodes as (child, parent) edges in pre-order; 400 for a malformed tree."""
    top = [body] if isinstance(body, dict) else body
    if not isinstance(top, list) or not top:
        raise BadRequest('The body must be a non-empty list of {"id", "children": [...]} nodes')
    edges: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    stack: list[tuple[Any, str | None]] = [(node, None) for node in reversed(top)]
    while stack:
        node, parent = stack.pop()
        node_id = node.get("id") if isinstance(node, dict) else None
        kids = node.get("children", []) if isinstance(node, dict) else None
        if not isinstance(node_id, str) or not node_id or not isinstance(kids, list):
            raise BadRequest('Each hierarchy node must be {"id": "<type id>", "children": [...]}')
        if node_id in seen:
            raise BadRequest(f"'{node_id}' appears twice in the hierarchy")
        seen.add(node_id)
        if len(seen) > MAX_NODES:
            raise PayloadTooLarge(f"At most {MAX_NODES} nodes per hierarchy")
        edges.append((node_id, parent))
        stack.extend((kid, node_id) for kid in reversed(kids))
    return edges


def find_cycle(edges: list[Edge]) -> str | None:
    """A node on a cycle of the child -> parent function, if any (one linear pass)."""
    parent_of = dict(edges)
    state: dict[str, int] = {}  # 1: on the walk being followed, 2: known to reach a root
    for start in parent_of:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = parent_of.get(node)
        if node is not None and state[node] == 1:
            return node
        for visited in path:
            state[visited] = 2
    return None


async def hierarchy(db: Executor, collection_id: str) -> list[Any]:
    stored = await hierarchy_store.edges(db, collection_id)
    if stored:
        return forest(stored)
    rows = await typeschemas_store.current_entity_types(db, collection_id)
    by_class = {r.metadata.get("class") or r.type_id: r.type_id for r in rows}
    edges: list[Edge] = []
    for row in rows:
        parents = [by_class[p] for p in row.metadata.get("parents", []) if p in by_class]
        edges += [(row.type_id, p) for p in parents] or [(row.type_id, None)]
    if find_cycle([(c, p) for c, p in edges]):
        return forest([(r.type_id, None) for r in rows])  # parents loop: list them flat
    return forest(edges)


async def merge(pool: asyncpg.Pool, collection_id: str, body: Any) -> list[Any]:
    """Merge a posted hierarchy (the caller has checked the role)."""
    edges = parse_tree(body)
    ids = [child for child, _ in edges]
    async with pool.acquire() as conn, conn.transaction():
        # Two merges at once could each close half a cycle: they take turns.
        await collections_store.lock(conn, collection_id)
        known = await typeschemas_store.active_entity_type_ids(conn, collection_id, ids)
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise Unprocessable(
                f"Not active entity types of schema collection '{collection_id}': "
                + ", ".join(unknown[:10])
            )
        parents = [parent for _, parent in edges]
        await hierarchy_store.merge(conn, collection_id, ids, parents)
        stored = await hierarchy_store.edges(conn, collection_id)
        looped = find_cycle(stored)
        if looped is not None:
            raise Unprocessable(f"The merged hierarchy would put '{looped}' under itself")
        return forest(stored)
