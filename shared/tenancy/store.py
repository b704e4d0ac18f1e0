"""A principal's queued work, as PostgreSQL counts it: its unfinished jobs and their items."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import Executor

# Serializes one principal's admissions until each recording transaction commits, so that two
# concurrent submissions cannot both see room for one. The first key names this lock's class.
LOCK_PRINCIPAL = "SELECT pg_advisory_xact_lock(hashtext('brickyard admission'), $1::int)"

# A job that is a staged ER batch counts its items not yet done; any other unfinished job
# counts 1 (as does a batch whose chunks are all done but whose job has not finished yet).
_STAGED_ITEMS = """
LEFT JOIN LATERAL (
    SELECT sum(chunk.item_count) AS items
    FROM er_batches batch
    JOIN er_batch_chunks chunk ON chunk.transaction_id = batch.transaction_id AND NOT chunk.done
    WHERE batch.job_token = jobs.token
) staged ON true
"""

# The job being recorded (``$2``) is left out: the caller adds what it brings.
QUEUED = (
    "SELECT count(*) AS jobs, coalesce(sum(coalesce(staged.items, 1)), 0) AS items FROM jobs"
    + _STAGED_ITEMS
    + "WHERE jobs.principal_id = $1 AND jobs.state = 'PROCESSING' AND jobs.token <> $2"
)

# Every principal's queued work, for the metrics; a job is running while a live lease holds it.
QUEUED_BY_PRINCIPAL = (
    "SELECT jobs.principal_id, count(*) AS jobs,"
    " count(*) FILTER (WHERE jobs.lease_expires_at > now()) AS running,"
    " coalesce(sum(coalesce(staged.items, 1)), 0) AS items FROM jobs"
    + _STAGED_ITEMS
    + "WHERE jobs.state = 'PROCESSING' GROUP BY jobs.principal_id"
)


@dataclass(frozen=True, slots=True)
class Queued:
    jobs: int
    items: int
    # Of ``jobs``, those a worker runs now (the rest wait in the queue).
    running: int = 0


async def lock_principal(db: Executor, principal_id: int) -> None:
    await db.execute(LOCK_PRINCIPAL, principal_id)


async def queued(db: Executor, principal_id: int, recording_token: str) -> Queued:
    row = await db.fetchrow(QUEUED, principal_id, recording_token)
    assert row is not None  # an aggregate always answers one row
    return Queued(jobs=row["jobs"], items=row["items"])


async def queued_by_principal(db: Executor) -> dict[int, Queued]:
    rows = await db.fetch(QUEUED_BY_PRINCIPAL)
    return {
        row["principal_id"]: Queued(jobs=row["jobs"], items=row["items"], running=row["running"])
        for row in rows
    }
