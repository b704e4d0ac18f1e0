"""A principal's queued work, as PostgreSQL counts it: its unfinished jobs and their items."""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import Executor

# A principal's queued work, counted once its admission lock is held (migration 043): the lock
# serializes one principal's admissions until each recording transaction commits, so that two
# concurrent submissions cannot both see room for one.
ADMISSION_QUEUED = (
    "SELECT queued_jobs AS jobs, queued_items AS items FROM admission_queued($1::int, $2)"
)

# A job that is a staged ER batch counts its items not yet done; any other unfinished job
# counts 1 (as does a batch whose chunks are all done but whose job has not finished yet).
# admission_queued (migration 043) counts the same way.
_STAGED_ITEMS = """
LEFT JOIN LATERAL (
    SELECT sum(chunk.item_count) AS items
    FROM er_batches batch
    JOIN er_batch_chunks chunk ON chunk.transaction_id = batch.transaction_id AND NOT chunk.done
    WHERE batch.job_token = jobs.token
) staged ON true
"""

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


async def lock_and_count(db: Executor, principal_id: int, recording_token: str) -> Queued:
    """The principal's queued work but the job being recorded, with its admission lock taken
    until the transaction ends."""
    row = await db.fetchrow(ADMISSION_QUEUED, principal_id, recording_token)
    assert row is not None  # an aggregate always answers one row
    return Queued(jobs=row["jobs"], items=row["items"])


async def queued_by_principal(db: Executor) -> dict[int, Queued]:
    rows = await db.fetch(QUEUED_BY_PRINCIPAL)
    return {
        row["principal_id"]: Queued(jobs=row["jobs"], items=row["items"], running=row["running"])
        for row in rows
    }
