"""Staged batches, and the stored rows a chunk's checks read, as batch jobs use them (the rows
are written by upserts.py): set-based, one statement per step for a whole chunk, never a round
trip per item.

Look-ups join an ``unnest`` of the ids to a ``LATERAL ... LIMIT 1`` index probe, a plan that
does not depend on statistics: a table that was never analysed cannot turn them into scans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from shared.db import Executor
from shared.er.validation import Stored
from shared.text import json_text, json_value

CHUNK_SIZE = 1000

INSERT_BATCH = """
INSERT INTO er_batches (transaction_id, collection_id, item_kind, items, job_token, correlation_id)
VALUES ($1, $2, $3, NULL, $4, $5)
"""
# A chunk's first position: the items of the chunks before it.
INSERT_CHUNKS = """
INSERT INTO er_batch_chunks (transaction_id, chunk_no, item_count, items, first_position)
SELECT $1, u.n - 1, u.item_count, u.items,
       coalesce(sum(u.item_count) OVER (ORDER BY u.n ROWS BETWEEN UNBOUNDED PRECEDING
                                        AND 1 PRECEDING), 0)
FROM unnest($2::int[], $3::text[]) WITH ORDINALITY AS u(item_count, items, n)
"""
# Batches staged before chunks existed keep their items in er_batches until a worker splits them.
TAKE_UNSPLIT_ITEMS = """
UPDATE er_batches AS b SET items = NULL
FROM (SELECT transaction_id, items FROM er_batches
      WHERE transaction_id = $1 AND items IS NOT NULL FOR UPDATE) AS old
WHERE b.transaction_id = old.transaction_id
RETURNING old.items::text
"""
BATCH_STAGED = "SELECT true FROM er_batches WHERE transaction_id = $1"
DELETE_BATCH = "DELETE FROM er_batches WHERE transaction_id = $1"
# Whatever ended a batch's job, its staged items go; rows staged before batches named their
# job (job_token NULL) are left to their jobs.
SWEEP_ENDED_BATCHES = """
DELETE FROM er_batches b
WHERE b.job_token IS NOT NULL AND b.created_at < now() - make_interval(secs => $1)
  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.token = b.job_token AND j.state = 'PROCESSING')
"""
# The next chunk nobody holds, unless the batch's job has ended or is being cancelled. The claim
# commits on its own, so an attempt is counted even if the worker dies during the chunk.
CLAIM_CHUNK = """
UPDATE er_batch_chunks AS c SET attempts = c.attempts + 1, claimed_at = now()
WHERE (c.transaction_id, c.chunk_no) = (
    SELECT transaction_id, chunk_no FROM er_batch_chunks
    WHERE transaction_id = $1 AND NOT done
      AND (claimed_at IS NULL OR claimed_at < now() - make_interval(secs => $2))
    ORDER BY chunk_no LIMIT 1 FOR UPDATE SKIP LOCKED)
  AND NOT EXISTS (
    SELECT 1 FROM er_batches b JOIN jobs j ON j.token = b.job_token
    WHERE b.transaction_id = $1 AND (j.state <> 'PROCESSING' OR j.cancel_requested))
RETURNING c.chunk_no, c.attempts
"""
# The chunk's transaction holds its row until it commits: whoever removes the batch (a cancel,
# a failure) waits for the chunk to finish, and then sees its items' final logs.
LOCK_CHUNK = """
SELECT items, first_position FROM er_batch_chunks
WHERE transaction_id = $1 AND chunk_no = $2 AND NOT done
FOR UPDATE
"""
FINISH_CHUNK = "UPDATE er_batch_chunks SET done = true WHERE transaction_id = $1 AND chunk_no = $2"
# Waits for the first chunk not done if a worker is in the middle of it (its transaction holds
# the row FOR UPDATE), and locks nothing else: a wait that locked every chunk not done (as this
# did) held the chunks no one had claimed yet while it waited, so the workers that came to claim
# them skipped them and stopped, and the batch stalled (seen twice in full test runs).
AWAIT_FIRST_CHUNK = """
SELECT chunk_no FROM er_batch_chunks
WHERE transaction_id = $1 AND NOT done
ORDER BY chunk_no LIMIT 1
FOR KEY SHARE
"""
CHUNKS_LEFT = "SELECT count(*) FROM er_batch_chunks WHERE transaction_id = $1 AND NOT done"
CHUNK_PROGRESS = """
SELECT coalesce(sum(item_count) FILTER (WHERE done), 0) AS done,
       coalesce(sum(item_count), 0) AS total,
       count(*) FILTER (WHERE NOT done) AS chunks_left
FROM er_batch_chunks WHERE transaction_id = $1
"""
STORED_ENTITIES = """
SELECT s.id, s.type_id, s.derived
FROM unnest($2::text[]) AS u(id),
LATERAL (SELECT e.id, e.entity_type AS type_id, e.derived FROM er_entities e
         WHERE e.collection_id = $1 AND e.id = u.id LIMIT 1) AS s
"""
# A relationship chunk's two look-ups in one round trip: the entity type of each (collection,
# entity) its items point at (rows tagged 'entity'), and the stored relationships it may
# replace (tagged 'relationship').
RELATIONSHIP_LOOKUPS = """
SELECT 'entity' AS found, u.collection_id, u.id, s.entity_type AS type_id, NULL::jsonb AS derived
FROM unnest($1::text[], $2::text[]) AS u(collection_id, id),
LATERAL (SELECT e.entity_type FROM er_entities e
         WHERE e.collection_id = u.collection_id AND e.id = u.id LIMIT 1) AS s
UNION ALL
SELECT 'relationship', $3, s.id, s.type_id, s.derived
FROM unnest($4::text[]) AS u(id),
LATERAL (SELECT r.id, r.relationship_type AS type_id, r.derived FROM er_relationships r
         WHERE r.collection_id = $3 AND r.id = u.id LIMIT 1) AS s
"""


def chunked(items: Sequence[Any], size: int = CHUNK_SIZE) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def stage_batch(
    db: Executor,
    transaction_id: str,
    collection_id: str,
    item_kind: str,
    chunks: Sequence[tuple[int, str]],
    job_token: str,
    correlation_id: str,
) -> None:
    """The batch and its chunks: (item count, the items as one JSON array) each."""
    await db.execute(
        INSERT_BATCH, transaction_id, collection_id, item_kind, job_token, correlation_id
    )
    await _stage_chunks(db, transaction_id, chunks)


def encode_chunks(items: Sequence[Any]) -> list[tuple[int, str]]:
    return [(len(chunk), json_text(chunk)) for chunk in chunked(items)]


async def _stage_chunks(
    db: Executor, transaction_id: str, chunks: Sequence[tuple[int, str]]
) -> None:
    await db.execute(
        INSERT_CHUNKS, transaction_id, [n for n, _ in chunks], [text for _, text in chunks]
    )


async def split_unsplit_batch(conn: asyncpg.Connection, transaction_id: str) -> bool:
    """Whether the batch is staged; one staged before chunks existed is split into them."""
    async with conn.transaction():
        legacy = await conn.fetchval(TAKE_UNSPLIT_ITEMS, transaction_id)
        if legacy is not None:
            await _stage_chunks(conn, transaction_id, encode_chunks(json_value(legacy)))
            return True
        return bool(await conn.fetchval(BATCH_STAGED, transaction_id))


async def delete_batch(db: Executor, transaction_id: str) -> None:
    await db.execute(DELETE_BATCH, transaction_id)


async def sweep_ended_batches(db: Executor, grace_s: float) -> int:
    """Remove the staged items of every batch whose job has ended; how many were removed."""
    status = await db.execute(SWEEP_ENDED_BATCHES, grace_s)
    return int(status.split()[-1])


async def claim_chunk(db: Executor, transaction_id: str, lease_s: float) -> tuple[int, int] | None:
    """(chunk number, attempts) of the next chunk to process, or None when none is free."""
    row = await db.fetchrow(CLAIM_CHUNK, transaction_id, lease_s)
    return (row["chunk_no"], row["attempts"]) if row else None


async def lock_chunk(
    conn: asyncpg.Connection, transaction_id: str, chunk_no: int
) -> tuple[list[dict[str, Any]], int] | None:
    """The chunk's items and the batch position of its first, locked for this transaction;
    None if it is done or gone."""
    row = await conn.fetchrow(LOCK_CHUNK, transaction_id, chunk_no)
    return None if row is None else (json_value(row["items"]), row["first_position"])


async def finish_chunk(conn: asyncpg.Connection, transaction_id: str, chunk_no: int) -> None:
    await conn.execute(FINISH_CHUNK, transaction_id, chunk_no)


async def await_chunks(db: Executor, transaction_id: str) -> int:
    """Wait for the first chunk another worker is processing, if any; how many chunks are still
    not done. The caller claims what is left and waits again until none is."""
    await db.execute(AWAIT_FIRST_CHUNK, transaction_id)
    return int(await db.fetchval(CHUNKS_LEFT, transaction_id))


async def chunk_progress(db: Executor, transaction_id: str) -> tuple[int, int, int]:
    """(items done, items in all, chunks not done)."""
    row = await db.fetchrow(CHUNK_PROGRESS, transaction_id)
    return row["done"], row["total"], row["chunks_left"]


async def _stored(db: Executor, sql: str, collection_id: str, ids: list[str]) -> dict[str, Stored]:
    rows = await db.fetch(sql, collection_id, ids)
    return {row["id"]: Stored(row["type_id"], row["derived"]) for row in rows}


async def stored_entities(db: Executor, collection_id: str, ids: list[str]) -> dict[str, Stored]:
    return await _stored(db, STORED_ENTITIES, collection_id, ids)


async def relationship_lookups(
    db: Executor, collection_id: str, refs: Iterable[tuple[str, str]], ids: list[str]
) -> tuple[dict[tuple[str, str], str], dict[str, Stored]]:
    """The entity type of each existing (collection id, entity id) of ``refs`` (absent ones are
    left out), and the stored relationships of ``collection_id`` among ``ids``."""
    wanted = sorted(set(refs))
    rows = await db.fetch(
        RELATIONSHIP_LOOKUPS, [c for c, _ in wanted], [i for _, i in wanted], collection_id, ids
    )
    entity_types: dict[tuple[str, str], str] = {}
    stored: dict[str, Stored] = {}
    for row in rows:
        if row["found"] == "entity":
            entity_types[(row["collection_id"], row["id"])] = row["type_id"]
        else:
            stored[row["id"]] = Stored(row["type_id"], row["derived"])
    return entity_types, stored
