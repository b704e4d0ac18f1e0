"""Entity and relationship rows as batch jobs read and write them: set-based, one statement per
step for a whole chunk, never a round trip per item."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import asyncpg

from shared.er.items import EntityRow, RelationshipRow
from shared.er.validation import Stored

Executor = asyncpg.Pool | asyncpg.Connection

LOAD_BATCH = "SELECT items FROM er_batches WHERE transaction_id = $1"
DELETE_BATCH = "DELETE FROM er_batches WHERE transaction_id = $1"
INSERT_BATCH = """
INSERT INTO er_batches (transaction_id, collection_id, item_kind, items, job_token)
VALUES ($1, $2, $3, $4, $5)
"""
# Whatever ended a batch's job, its staged items go; rows staged before batches named their
# job (job_token NULL) are left to their jobs.
SWEEP_ENDED_BATCHES = """
DELETE FROM er_batches b
WHERE b.job_token IS NOT NULL AND b.created_at < now() - make_interval(secs => $1)
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.token = b.job_token AND j.state = 'PROCESSING')
"""
STORED_ENTITIES = """
SELECT id, entity_type AS type_id, derived FROM er_entities
WHERE collection_id = $1 AND id = ANY($2::text[])
"""
STORED_RELATIONSHIPS = """
SELECT id, relationship_type AS type_id, derived FROM er_relationships
WHERE collection_id = $1 AND id = ANY($2::text[])
"""
ENTITY_TYPES_OF = """
SELECT e.collection_id, e.id, e.entity_type
FROM er_entities e
JOIN unnest($1::text[], $2::text[]) AS r(collection_id, id)
  ON e.collection_id = r.collection_id AND e.id = r.id
"""
# The WHERE of each upsert is the last guard of immutable fields: a row whose type or derived
# fields differ (a concurrent batch created it differently) is left alone and not RETURNed.
UPSERT_ENTITIES = """
INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
SELECT $1, u.id, u.entity_type, u.derived, u.body, $6
FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::json[]) AS u(id, entity_type, derived, body)
ON CONFLICT (collection_id, id) DO UPDATE
SET body = EXCLUDED.body, transaction_id = EXCLUDED.transaction_id, updated_at = now()
WHERE er_entities.entity_type = EXCLUDED.entity_type AND er_entities.derived = EXCLUDED.derived
RETURNING id
"""
UPSERT_RELATIONSHIPS = """
INSERT INTO er_relationships
    (collection_id, id, relationship_type, source_entity_id, destination_collection_id,
     destination_entity_id, derived, body, transaction_id)
SELECT $1, u.id, u.relationship_type, u.source_id, u.destination_collection_id,
       u.destination_id, u.derived, u.body, $9
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::json[])
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


RowT = TypeVar("RowT", EntityRow, RelationshipRow)


def by_id(rows: Sequence[RowT]) -> list[RowT]:
    """Concurrent batches lock the rows they share in the same order, so they cannot deadlock."""
    return sorted(rows, key=lambda row: row.id)


async def load_batch(db: Executor, transaction_id: str) -> list[dict[str, Any]] | None:
    return await db.fetchval(LOAD_BATCH, transaction_id)


async def delete_batch(db: Executor, transaction_id: str) -> None:
    await db.execute(DELETE_BATCH, transaction_id)


async def stage_batch(
    db: Executor,
    transaction_id: str,
    collection_id: str,
    item_kind: str,
    items: list[dict[str, Any]],
    job_token: str,
) -> None:
    await db.execute(INSERT_BATCH, transaction_id, collection_id, item_kind, items, job_token)


async def sweep_ended_batches(db: Executor, grace_s: float) -> int:
    """Remove the staged items of every batch whose job has ended; how many were removed."""
    status = await db.execute(SWEEP_ENDED_BATCHES, grace_s)
    return int(status.split()[-1])


async def _stored(db: Executor, sql: str, collection_id: str, ids: list[str]) -> dict[str, Stored]:
    rows = await db.fetch(sql, collection_id, ids)
    return {row["id"]: Stored(row["type_id"], row["derived"]) for row in rows}


async def stored_entities(db: Executor, collection_id: str, ids: list[str]) -> dict[str, Stored]:
    return await _stored(db, STORED_ENTITIES, collection_id, ids)


async def stored_relationships(
    db: Executor, collection_id: str, ids: list[str]
) -> dict[str, Stored]:
    return await _stored(db, STORED_RELATIONSHIPS, collection_id, ids)


async def entity_types_of(
    db: Executor, refs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The entity type of each existing (collection id, entity id); absent ones are left out."""
    wanted = sorted(set(refs))
    rows = await db.fetch(ENTITY_TYPES_OF, [c for c, _ in wanted], [i for _, i in wanted])
    return {(row["collection_id"], row["id"]): row["entity_type"] for row in rows}


async def upsert_entities(
    db: Executor, collection_id: str, transaction_id: str, rows: Sequence[EntityRow]
) -> set[str]:
    """Write the rows; returns the ids actually written."""
    if not rows:
        return set()
    rows = by_id(rows)
    written = await db.fetch(
        UPSERT_ENTITIES,
        collection_id,
        [row.id for row in rows],
        [row.entity_type for row in rows],
        [row.derived for row in rows],
        [row.body for row in rows],
        transaction_id,
    )
    return {record["id"] for record in written}


async def upsert_relationships(
    db: Executor, collection_id: str, transaction_id: str, rows: Sequence[RelationshipRow]
) -> set[str]:
    if not rows:
        return set()
    rows = by_id(rows)
    written = await db.fetch(
        UPSERT_RELATIONSHIPS,
        collection_id,
        [row.id for row in rows],
        [row.relationship_type for row in rows],
        [row.source_entity_id for row in rows],
        [row.destination_collection_id for row in rows],
        [row.destination_entity_id for row in rows],
        [row.derived for row in rows],
        [row.body for row in rows],
        transaction_id,
    )
    return {record["id"] for record in written}
