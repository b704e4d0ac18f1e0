"""The SQL of graph reads. Expansions are one recursive query each; reachability goes one
set-based query per level (see shared/graph/reachable.py for why)."""

from __future__ import annotations

from shared.er.views import ENTITIES, RELATIONSHIPS

# $1 collection, $2 ids (or NULL), $3 type (or NULL), $4 after id, $5 limit.
_ITEMS_WHERE = (
    "collection_id = $1 AND ($2::text[] IS NULL OR id = ANY($2::text[])) "
    "AND ($3::text IS NULL OR {type} = $3)"
)
ENTITY_WHERE = _ITEMS_WHERE.format(type=ENTITIES.type_column)
RELATIONSHIP_WHERE = _ITEMS_WHERE.format(type=RELATIONSHIPS.type_column)
COUNT_ENTITIES = f"SELECT count(*) FROM er_entities WHERE {ENTITY_WHERE}"
PAGE_ENTITIES = (
    f"SELECT collection_id AS item_collection, {ENTITIES.columns} FROM er_entities "
    f"WHERE {ENTITY_WHERE} AND id > $4 ORDER BY id LIMIT $5"
)
COUNT_RELATIONSHIPS = f"SELECT count(*) FROM er_relationships WHERE {RELATIONSHIP_WHERE}"
PAGE_RELATIONSHIPS = (
    f"SELECT collection_id AS item_collection, {RELATIONSHIPS.columns} FROM er_relationships "
    f"WHERE {RELATIONSHIP_WHERE} AND id > $4 ORDER BY id LIMIT $5"
)

# Items by (collection, id) keys, whatever collections the keys name.
ENTITIES_BY_KEYS = (
    f"SELECT e.collection_id AS item_collection, {ENTITIES.columns} FROM er_entities e "
    "JOIN unnest($1::text[], $2::text[]) AS k(c, i) ON e.collection_id = k.c AND e.id = k.i"
)
RELATIONSHIPS_BY_KEYS = (
    f"SELECT r.collection_id AS item_collection, {RELATIONSHIPS.columns} "
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
