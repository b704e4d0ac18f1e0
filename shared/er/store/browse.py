"""What the dashboard's collection page reads: entities by id or name, and the relationships
around one entity (issue 22)."""

from __future__ import annotations

from shared.db import Executor, fetch_as, fetchrow_as
from shared.er.rows import AroundEdge, EntityLine

# A search matches the id or the name, case-insensitively; the pattern's own % and _ are
# escaped by the caller.
SEARCH_ENTITIES = """
SELECT id, entity_type, body->>'entityName' AS name FROM er_entities
WHERE collection_id = $1
  AND ($2::text = '' OR id ILIKE $2 ESCAPE '\\' OR body->>'entityName' ILIKE $2 ESCAPE '\\')
ORDER BY id LIMIT $3
"""
ENTITY = """
SELECT id, entity_type, body->>'entityName' AS name FROM er_entities
WHERE collection_id = $1 AND id = $2
"""
# The relationships of the given types leaving or reaching any of the given entities, with
# the other end's type and name (null when the other end is in another collection).
AROUND = """
SELECT r.relationship_type, r.source_entity_id, r.destination_entity_id,
       e.entity_type AS other_type, e.body->>'entityName' AS other_name
FROM er_relationships r
LEFT JOIN er_entities e ON e.collection_id = r.destination_collection_id
     AND e.id = CASE WHEN r.source_entity_id = ANY($2::text[])
                     THEN r.destination_entity_id ELSE r.source_entity_id END
WHERE r.collection_id = $1 AND r.relationship_type = ANY($3::text[])
  AND (r.source_entity_id = ANY($2::text[]) OR r.destination_entity_id = ANY($2::text[]))
ORDER BY r.source_entity_id, r.destination_entity_id LIMIT $4
"""


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%" if text else ""


async def search_entities(
    db: Executor, collection_id: str, text: str, limit: int
) -> list[EntityLine]:
    return await fetch_as(db, EntityLine, SEARCH_ENTITIES, collection_id, like_pattern(text), limit)


async def entity(db: Executor, collection_id: str, entity_id: str) -> EntityLine | None:
    return await fetchrow_as(db, EntityLine, ENTITY, collection_id, entity_id)


async def around(
    db: Executor, collection_id: str, entity_ids: list[str], type_ids: list[str], limit: int
) -> list[AroundEdge]:
    return await fetch_as(db, AroundEdge, AROUND, collection_id, entity_ids, type_ids, limit)
