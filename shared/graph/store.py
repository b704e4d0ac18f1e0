"""The SQL of graph reads. Expansions are one recursive query each; reachability goes one
set-based query per level (see shared/graph/reachable.py for why); a search runs the condition
shared/graph/search.py compiles its query to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.db import Executor, fetch_as
from shared.er.rows import GraphItemRow
from shared.er.store.reads import item_columns
from shared.er.tables import ENTITIES, RELATIONSHIPS, ItemTable
from shared.graph.forms import Level
from shared.graph.rows import ExpansionPath, ReachStep

# $1 collection, $2 ids (or NULL), $3 type (or NULL), $4 after id, $5 limit.
_ITEMS_WHERE = (
    "collection_id = $1 AND ($2::text[] IS NULL OR id = ANY($2::text[])) "
    "AND ($3::text IS NULL OR {type} = $3)"
)
ENTITY_WHERE = _ITEMS_WHERE.format(type=ENTITIES.type_column)
RELATIONSHIP_WHERE = _ITEMS_WHERE.format(type=RELATIONSHIPS.type_column)
COUNT_ENTITIES = f"SELECT count(*) FROM er_entities WHERE {ENTITY_WHERE}"
PAGE_ENTITIES = (
    f"SELECT collection_id AS item_collection, {item_columns(ENTITIES)} FROM er_entities "
    f"WHERE {ENTITY_WHERE} AND id > $4 ORDER BY id LIMIT $5"
)
COUNT_RELATIONSHIPS = f"SELECT count(*) FROM er_relationships WHERE {RELATIONSHIP_WHERE}"
PAGE_RELATIONSHIPS = (
    f"SELECT collection_id AS item_collection, {item_columns(RELATIONSHIPS)} "
    f"FROM er_relationships WHERE {RELATIONSHIP_WHERE} AND id > $4 ORDER BY id LIMIT $5"
)

# Items by (collection, id) keys, whatever collections the keys name.
ENTITIES_BY_KEYS = (
    f"SELECT e.collection_id AS item_collection, {item_columns(ENTITIES)} FROM er_entities e "
    "JOIN unnest($1::text[], $2::text[]) AS k(c, i) ON e.collection_id = k.c AND e.id = k.i"
)
RELATIONSHIPS_BY_KEYS = (
    f"SELECT r.collection_id AS item_collection, {item_columns(RELATIONSHIPS)} "
    "FROM er_relationships r "
    "JOIN unnest($1::text[], $2::text[]) AS k(c, i) ON r.collection_id = k.c AND r.id = k.i"
)

# Level k of an expansion admits relationship r when its type is $3[k] (NULL: any) and, for
# a level that embeds its destination ($4[k]), the destination is an entity of type $5[k]
# (NULL: any) in a collection the caller can read ($6). $2: the roots (in collection $1);
# $7: the number of levels; $8: the result limit (plus one, to tell "over the limit").
# A path is the list of the relationships walked; LIMIT stops the recursion early.
_LEVEL = """
(($3::text[])[{k}] IS NULL OR r.relationship_type = ($3::text[])[{k}])
AND (NOT ($4::boolean[])[{k}] OR (r.destination_collection_id = ANY($6::text[]) AND EXISTS (
    SELECT 1 FROM er_entities d
    WHERE d.collection_id = r.destination_collection_id AND d.id = r.destination_entity_id
      AND (($5::text[])[{k}] IS NULL OR d.entity_type = ($5::text[])[{k}]))))
"""
EXPAND = f"""
WITH RECURSIVE walk AS (
    SELECT 1 AS depth, ARRAY[r.collection_id || ' ' || r.id] AS path,
           r.collection_id, r.id, r.source_entity_id AS source_id,
           r.destination_collection_id AS to_collection, r.destination_entity_id AS to_id
    FROM er_relationships r
    WHERE r.collection_id = $1 AND r.source_entity_id = ANY($2::text[])
      AND {_LEVEL.format(k="1")}
    UNION ALL
    SELECT w.depth + 1, w.path || (r.collection_id || ' ' || r.id),
           r.collection_id, r.id, r.source_entity_id, r.destination_collection_id,
           r.destination_entity_id
    FROM walk w
    JOIN er_relationships r ON r.collection_id = w.to_collection AND r.source_entity_id = w.to_id
    WHERE w.depth < $7 AND ($4::boolean[])[w.depth]
      AND {_LEVEL.format(k="w.depth + 1")}
)
SELECT depth, path, collection_id, id, source_id, to_collection, to_id FROM walk LIMIT $8
"""

# One level of a walk for reachability: from the frontier (collections $1, ids $2) along
# relationships of the types $4 (NULL: any; a type id, a namespaced relation or a relation
# name) into collections the caller can read ($3).
_TYPES = (
    "($4::text[] IS NULL OR r.relationship_type = ANY($4::text[]) "
    "OR r.derived ->> 'brickRelationshipType' = ANY($4::text[]) "
    "OR r.derived ->> 'brickRelationshipName' = ANY($4::text[]))"
)
STEP_OUT = f"""
SELECT f.c AS from_collection, f.e AS from_id, r.collection_id AS relationship_collection,
       r.id AS relationship_id, r.relationship_type,
       r.destination_collection_id AS to_collection, r.destination_entity_id AS to_id
FROM unnest($1::text[], $2::text[]) AS f(c, e)
JOIN er_relationships r ON r.collection_id = f.c AND r.source_entity_id = f.e
WHERE r.destination_collection_id = ANY($3::text[]) AND {_TYPES}
ORDER BY to_collection, to_id, relationship_collection, relationship_id
"""
STEP_IN = f"""
SELECT f.c AS from_collection, f.e AS from_id, r.collection_id AS relationship_collection,
       r.id AS relationship_id, r.relationship_type,
       r.collection_id AS to_collection, r.source_entity_id AS to_id
FROM unnest($1::text[], $2::text[]) AS f(c, e)
JOIN er_relationships r
  ON r.destination_collection_id = f.c AND r.destination_entity_id = f.e
WHERE r.collection_id = ANY($3::text[]) AND {_TYPES}
ORDER BY to_collection, to_id, relationship_collection, relationship_id
"""

# A search over one item table: $1 the collections, then the condition's arguments ($2 on),
# then the keyset (collection, id) at ${n} and ${n + 1}, and the limit.
SEARCH_WHERE = "collection_id = ANY($1::text[]) AND ({condition})"
SEARCH_COUNT = "SELECT count(*) FROM {table} WHERE {where}"
SEARCH_PAGE = (
    "SELECT collection_id AS item_collection, {columns} FROM {table} "
    "WHERE {where} AND (collection_id, id) > (${n}::text, ${n1}::text) "
    "ORDER BY collection_id, id LIMIT ${n2}"
)


@dataclass(frozen=True, slots=True)
class Search:
    """A search's two statements and its condition's arguments (after $1, the collections)."""

    count: str
    page: str
    args: list[Any]


def search(table: ItemTable, condition: str, args: list[Any]) -> Search:
    """The statements of a search of ``table`` by ``condition``, whose arguments (``args``)
    are numbered from $2."""
    where = SEARCH_WHERE.format(condition=condition)
    n = 2 + len(args)
    return Search(
        SEARCH_COUNT.format(table=table.table, where=where),
        SEARCH_PAGE.format(columns=item_columns(table), table=table.table, where=where,
                           n=n, n1=n + 1, n2=n + 2),
        args,
    )  # fmt: skip


async def count_search(db: Executor, query: Search, collection_ids: list[str]) -> int:
    total: int = await db.fetchval(query.count, collection_ids, *query.args)
    return total


async def page_search(
    db: Executor, query: Search, collection_ids: list[str], after: list[str], limit: int
) -> list[GraphItemRow]:
    """``limit`` matches after the keyset ``after`` (collection, id), in keyset order."""
    return await fetch_as(db, GraphItemRow, query.page, collection_ids, *query.args, *after, limit)


async def count_items(
    db: Executor, table: ItemTable, collection_id: str, ids: list[str] | None, type_id: str | None
) -> int:
    """How many of the collection's items have one of ``ids`` and ``type_id`` (None: any)."""
    sql = COUNT_ENTITIES if table is ENTITIES else COUNT_RELATIONSHIPS
    total: int = await db.fetchval(sql, collection_id, ids, type_id)
    return total


async def page_items(
    db: Executor,
    table: ItemTable,
    collection_id: str,
    ids: list[str] | None,
    type_id: str | None,
    after: str,
    limit: int,
) -> list[GraphItemRow]:
    """``limit`` of the items ``count_items`` counts, after the id ``after``, by id."""
    sql = PAGE_ENTITIES if table is ENTITIES else PAGE_RELATIONSHIPS
    return await fetch_as(db, GraphItemRow, sql, collection_id, ids, type_id, after, limit)


async def items_by_keys(
    db: Executor, table: ItemTable, keys: Sequence[tuple[str, str]]
) -> list[GraphItemRow]:
    sql = ENTITIES_BY_KEYS if table is ENTITIES else RELATIONSHIPS_BY_KEYS
    return await fetch_as(db, GraphItemRow, sql, [k[0] for k in keys], [k[1] for k in keys])


async def expand(
    db: Executor,
    collection_id: str,
    root_ids: list[str],
    levels: Sequence[Level],
    readable: list[str],
    limit: int,
) -> list[ExpansionPath]:
    """The paths of an expansion from the roots, at most ``limit`` of them."""
    return await fetch_as(
        db,
        ExpansionPath,
        EXPAND,
        collection_id,
        root_ids,
        [level.relationship_type for level in levels],
        [level.embed for level in levels],
        [level.entity_type for level in levels],
        readable,
        len(levels),
        limit,
    )


async def step(
    db: Executor,
    frontier: Sequence[tuple[str, str]],
    outward: bool,
    readable: list[str],
    relationship_types: list[str] | None,
) -> list[ReachStep]:
    """One level of a reachability walk from the entities of ``frontier``."""
    return await fetch_as(
        db,
        ReachStep,
        STEP_OUT if outward else STEP_IN,
        [k[0] for k in frontier],
        [k[1] for k in frontier],
        readable,
        relationship_types,
    )
