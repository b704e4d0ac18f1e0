"""Writing a chunk's rows: one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE`` per
chunk, each column one array, the rows in id order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from shared.db import Executor
from shared.er.items import EntityRow, RelationshipRow
from shared.text import json_text

# What the foreign key to er_collections did row by row, once per statement (migration 026):
# the collection is locked against deletion until the upsert's transaction ends, and an upsert
# into a collection that is gone writes nothing.
COLLECTION_HELD = "held AS (SELECT id FROM er_collections WHERE id = $1 FOR KEY SHARE)"
# The WHERE of each upsert is the last guard of immutable fields: a row whose type or derived
# fields differ (a concurrent batch created it differently) is left alone and not RETURNed.
# Bodies and derived fields arrive as JSON text (encoded once, by orjson) and are cast here.
# The statements after the WITH: a synchronous batch's one statement puts more beside them.
UPSERT_ENTITIES_BODY = """
INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
SELECT k.id, u.id, u.entity_type, u.derived::jsonb, u.body::json, $6
FROM held AS k,
     unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, entity_type, derived, body)
ON CONFLICT (collection_id, id) DO UPDATE
SET body = EXCLUDED.body, transaction_id = EXCLUDED.transaction_id, updated_at = now()
WHERE er_entities.entity_type = EXCLUDED.entity_type AND er_entities.derived = EXCLUDED.derived
RETURNING id
"""
UPSERT_ENTITIES = f"WITH {COLLECTION_HELD}{UPSERT_ENTITIES_BODY}"
UPSERT_RELATIONSHIPS_BODY = """
INSERT INTO er_relationships
    (collection_id, id, relationship_type, source_entity_id, destination_collection_id,
     destination_entity_id, derived, body, transaction_id)
SELECT k.id, u.id, u.relationship_type, u.source_id, u.destination_collection_id,
       u.destination_id, u.derived::jsonb, u.body::json, $9
FROM held AS k, unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
     AS u(id, relationship_type, source_id, destination_collection_id, destination_id, derived,
          body)
ON CONFLICT (collection_id, id) DO UPDATE
SET source_entity_id = EXCLUDED.source_entity_id,
    destination_collection_id = EXCLUDED.destination_collection_id,
    destination_entity_id = EXCLUDED.destination_entity_id,
    body = EXCLUDED.body, transaction_id = EXCLUDED.transaction_id, updated_at = now()
WHERE er_relationships.relationship_type = EXCLUDED.relationship_type
  AND er_relationships.derived = EXCLUDED.derived
RETURNING id
"""
UPSERT_RELATIONSHIPS = f"WITH {COLLECTION_HELD}{UPSERT_RELATIONSHIPS_BODY}"


RowT = TypeVar("RowT", EntityRow, RelationshipRow)


def by_id(rows: Sequence[RowT]) -> list[RowT]:
    """Concurrent batches lock the rows they share in the same order, so they cannot deadlock."""
    return sorted(rows, key=lambda row: row.id)


ENTITY_COLUMNS = [attrgetter("entity_type")]
RELATIONSHIP_COLUMNS = [
    attrgetter("relationship_type"),
    attrgetter("source_entity_id"),
    attrgetter("destination_collection_id"),
    attrgetter("destination_entity_id"),
]
# Item kind -> the upsert's statement after its WITH, and the columns between id and derived.
UPSERT_BODIES = {"entity": UPSERT_ENTITIES_BODY, "relationship": UPSERT_RELATIONSHIPS_BODY}
UPSERT_COLUMNS: dict[str, Sequence[Callable[[Any], str]]] = {
    "entity": ENTITY_COLUMNS,
    "relationship": RELATIONSHIP_COLUMNS,
}


def upsert_args(
    collection_id: str, transaction_id: str, rows: Sequence[RowT], item_kind: str
) -> list[Any]:
    """Both upserts' arguments: one array per column, rows in id order (``by_id``)."""
    rows = by_id(rows)
    return [
        collection_id,
        [row.id for row in rows],
        *([column(row) for row in rows] for column in UPSERT_COLUMNS[item_kind]),
        [json_text(row.derived) for row in rows],
        [json_text(row.body) for row in rows],
        transaction_id,
    ]


async def _upsert(
    db: Executor, sql: str, collection_id: str, transaction_id: str, rows: Sequence[RowT],
    item_kind: str,
) -> set[str]:  # fmt: skip
    """Write the rows; returns the ids actually written."""
    if not rows:
        return set()
    written = await db.fetch(sql, *upsert_args(collection_id, transaction_id, rows, item_kind))
    return {record["id"] for record in written}


async def upsert_entities(
    db: Executor, collection_id: str, transaction_id: str, rows: Sequence[EntityRow]
) -> set[str]:
    """Write the rows; returns the ids actually written."""
    return await _upsert(db, UPSERT_ENTITIES, collection_id, transaction_id, rows, "entity")


async def upsert_relationships(
    db: Executor, collection_id: str, transaction_id: str, rows: Sequence[RelationshipRow]
) -> set[str]:
    """Write the rows; returns the ids actually written."""
    return await _upsert(
        db, UPSERT_RELATIONSHIPS, collection_id, transaction_id, rows, "relationship"
    )


Upsert = Callable[[Executor, str, str, Sequence[Any]], Awaitable[set[str]]]
UPSERTS: dict[str, Upsert] = {"entity": upsert_entities, "relationship": upsert_relationships}
