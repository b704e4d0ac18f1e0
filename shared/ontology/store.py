"""SQL of the ontology graph (migration 033): its set-based rebuild and its inherited reads."""

from __future__ import annotations

import asyncpg

from shared.db import Executor, fetch_as, fetchrow_as
from shared.ontology.graph import Graph
from shared.ontology.rows import ActiveType, Freshness, OntologyObjectRow

ACTIVE_TYPES = """
SELECT type_id, schema_type, metadata,
       schema::jsonb #>> '{properties,brickEntityName,default}' AS name
FROM type_schemas WHERE collection_id = $1 AND is_current AND active
ORDER BY type_id
"""
FRESHNESS = """
SELECT s.types_generation AS wanted, g.built_generation AS built, s.namespace
FROM schema_collections s LEFT JOIN ontology_graphs g ON g.collection_id = s.id
WHERE s.id = $1
"""
OWNER_OF_ENTITY_TYPE = """
SELECT collection_id FROM type_schemas
WHERE type_id = $1 AND schema_type = 'entitytypes' AND is_current AND active
"""
DELETE_GRAPH = "DELETE FROM ontology_graphs WHERE collection_id = $1"
INSERT_GRAPH = """
INSERT INTO ontology_graphs (collection_id, built_generation, entity_types, objects)
SELECT id, types_generation, $2, $3 FROM schema_collections WHERE id = $1
"""
INSERT_ENTITY_TYPES = """
INSERT INTO ontology_entity_types (collection_id, type_id, top_type_id, name)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
"""
INSERT_LINEAGE = """
INSERT INTO ontology_lineage (collection_id, type_id, ancestor_id)
SELECT $1, * FROM unnest($2::text[], $3::text[])
"""
INSERT_OBJECTS = """
INSERT INTO ontology_objects
    (collection_id, object_id, relation, relation_type_id, source_id, destination_id,
     inverse_relation)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
"""
INSERT_ENDS = """
INSERT INTO ontology_ends (collection_id, object_id, source_id, destination_id)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
"""
OBJECT_COLUMNS = """
o.object_id, o.relation, o.relation_type_id, o.source_id, o.destination_id, o.inverse_relation,
s.top_type_id AS source_top, s.name AS source_name,
d.top_type_id AS destination_top, d.name AS destination_name
"""
JOIN_ENDS = """
LEFT JOIN ontology_entity_types s ON s.collection_id = o.collection_id AND s.type_id = o.source_id
LEFT JOIN ontology_entity_types d
    ON d.collection_id = o.collection_id AND d.type_id = o.destination_id
"""
# $3: which end of the rule pairs the type (or an ancestor) must be: 'source' or 'destination'.
INHERITED = f"""
SELECT {OBJECT_COLUMNS} FROM ontology_objects o {JOIN_ENDS}
WHERE o.collection_id = $1 AND EXISTS (
    SELECT 1 FROM ontology_ends e JOIN ontology_lineage l
        ON l.collection_id = e.collection_id
        AND l.ancestor_id = CASE WHEN $3 = 'source' THEN e.source_id ELSE e.destination_id END
    WHERE e.collection_id = o.collection_id AND e.object_id = o.object_id AND l.type_id = $2)
ORDER BY o.object_id
"""
OF_RELATION = f"""
SELECT {OBJECT_COLUMNS} FROM ontology_objects o {JOIN_ENDS}
WHERE o.collection_id = $1 AND o.relation_type_id = (
    SELECT relation_type_id FROM ontology_objects WHERE collection_id = $1 AND object_id = $2)
ORDER BY o.object_id
"""
HAS_ENTITY_TYPE = """
SELECT EXISTS (SELECT 1 FROM ontology_entity_types WHERE collection_id = $1 AND type_id = $2)
"""


async def active_types(db: Executor, collection_id: str) -> list[ActiveType]:
    return await fetch_as(db, ActiveType, ACTIVE_TYPES, collection_id)


async def freshness(db: Executor, collection_id: str) -> Freshness | None:
    return await fetchrow_as(db, Freshness, FRESHNESS, collection_id)


async def owner_of_entity_type(db: Executor, type_id: str) -> str | None:
    owner: str | None = await db.fetchval(OWNER_OF_ENTITY_TYPE, type_id)
    return owner


def columns(rows: list[tuple[str | None, ...]], width: int) -> list[list[str | None]]:
    """Rows as one list per column, for an ``unnest`` insert."""
    return [[row[i] for row in rows] for i in range(width)]


async def replace(conn: asyncpg.Connection, collection_id: str, graph: Graph) -> None:
    """Delete the collection's graph and write ``graph`` (the caller holds its lock)."""
    objects: list[tuple[str | None, ...]] = [
        (o.object_id, o.relation, o.relation_type_id, o.source_id, o.destination_id,
         o.inverse_relation)
        for o in graph.objects
    ]  # fmt: skip
    await conn.execute(DELETE_GRAPH, collection_id)
    await conn.execute(INSERT_GRAPH, collection_id, len(graph.entity_types), len(graph.objects))
    await conn.execute(INSERT_ENTITY_TYPES, collection_id, *columns(list(graph.entity_types), 3))
    await conn.execute(INSERT_LINEAGE, collection_id, *columns(list(graph.lineage), 2))
    await conn.execute(INSERT_OBJECTS, collection_id, *columns(objects, 6))
    await conn.execute(INSERT_ENDS, collection_id, *columns(list(graph.ends), 3))


async def inherited(
    db: Executor, collection_id: str, type_id: str, end: str
) -> list[OntologyObjectRow]:
    return await fetch_as(db, OntologyObjectRow, INHERITED, collection_id, type_id, end)


async def of_relation(db: Executor, collection_id: str, object_id: str) -> list[OntologyObjectRow]:
    return await fetch_as(db, OntologyObjectRow, OF_RELATION, collection_id, object_id)


async def has_entity_type(db: Executor, collection_id: str, type_id: str) -> bool:
    return bool(await db.fetchval(HAS_ENTITY_TYPE, collection_id, type_id))


def generation_matches(row: Freshness) -> bool:
    return row.built is not None and row.built == row.wanted
