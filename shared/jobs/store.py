"""SQL for the jobs table (and the job runner's probe of PostgreSQL), in one place but for the
completion path's, which is in ``outcome_store.py`` (``JobOutcome`` and ``finish`` are re-exported).

Every state change a worker makes is set-based: one statement claims, renews or finishes all
the jobs of a batch, so the per-job cost in PostgreSQL stays a fraction of a round trip.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import asyncpg

from shared.db import Executor
from shared.jobs.model import JobRecord
from shared.jobs.outcome_store import JobOutcome as JobOutcome
from shared.jobs.outcome_store import finish as finish
from shared.jobs.outcome_store import item_counts
from shared.text import json_text

# Every column of a JobRecord: the result as its stored text, not parsed on the way.
JOB_COLUMNS = ", ".join(
    "result::text AS result_json" if f.name == "result_json" else f.name for f in fields(JobRecord)
)
INSERT_JOB = f"""
INSERT INTO jobs (token, kind, principal_id, request, progress_message, idempotency_key,
                  request_sha256)
VALUES ($1, $2, $3, $4, 'Queued', $5, $6)
RETURNING {JOB_COLUMNS}
"""
# A job run where it was asked for (JobService.run_here): its row is written once, finished, in
# the transaction that did its work, instead of inserted and then updated with its result. The
# result is not sent back: the caller holds it (a 100-item batch's is about 25 KB of JSON).
# Its item counts ($8, $9) come from item_counts, as for FINISH_JOBS.
_ALL_BUT_RESULT = ", ".join(f.name for f in fields(JobRecord) if f.name != "result_json")
# INSERT_JOB with its principal's admission (migration 043) in one statement: the row is
# written only if the principal has room for one more job and for its $8 items, and the
# counts come back either way, for the refusal's message. Outside a transaction block this is
# one round trip; the admission lock is held until the statement's transaction commits.
INSERT_ADMITTED_JOB = f"""
WITH queued AS (SELECT queued_jobs, queued_items FROM admission_queued($3::int, $1)),
inserted AS (
    INSERT INTO jobs (token, kind, principal_id, request, progress_message, idempotency_key,
                      request_sha256)
    SELECT $1, $2, $3, $4::json, 'Queued', $5, $6 FROM queued
    WHERE queued_jobs + 1 <= $7 AND queued_items + $8 <= $9
    RETURNING {JOB_COLUMNS}
)
SELECT queued.queued_jobs, queued.queued_items, inserted.* FROM queued LEFT JOIN inserted ON true
"""
# The same two inserts for a job whose caller waits for its outcome before answering anyone
# (``JobService.run_and_wait``): their commit does not wait for the WAL's flush. The outcome's
# commit, synchronous, flushes (and replicates) the WAL in order, the insert's before it, so
# nothing the caller is told depends on an unflushed row; a wait that gives up and hands the
# token out first makes the row durable (``make_durable``).
_UNFLUSHED = "unflushed AS (SELECT set_config('synchronous_commit', 'off', true) AS commit_mode)"
INSERT_JOB_UNFLUSHED = f"""
WITH {_UNFLUSHED}
INSERT INTO jobs (token, kind, principal_id, request, progress_message, idempotency_key,
                  request_sha256)
SELECT $1, $2, $3, $4::json, 'Queued', $5, $6 FROM unflushed WHERE commit_mode = 'off'
RETURNING {JOB_COLUMNS}
"""
INSERT_ADMITTED_JOB_UNFLUSHED = INSERT_ADMITTED_JOB.replace(
    "WITH queued AS (SELECT queued_jobs, queued_items FROM admission_queued($3::int, $1)),",
    f"WITH {_UNFLUSHED},\nqueued AS (SELECT queued_jobs, queued_items"
    " FROM unflushed, admission_queued($3::int, $1) WHERE commit_mode = 'off'),",
)
assert INSERT_ADMITTED_JOB_UNFLUSHED != INSERT_ADMITTED_JOB
# Any write to a job's row commits synchronously, so it flushes (and replicates) every commit
# before it, the row's unflushed insert included; no row: the insert was lost (a crash).
MAKE_DURABLE = "UPDATE jobs SET changed_at = changed_at WHERE token = $1 RETURNING token"
# Without RETURNING, it is also a part of a statement that writes the job's work with it (an ER
# synchronous batch's, shared/er/store/sync_batch.py): completed_job_args gives its arguments.
INSERT_COMPLETED_JOB_ROW = """
INSERT INTO jobs (token, kind, principal_id, request, idempotency_key, request_sha256, state,
                  result, progress_message, finished_at, items_stored, items_failed)
VALUES ($1, $2, $3, $4, $5, $6, 'COMPLETE', $7::text::json, 'Complete', now(), $8, $9)
"""
INSERT_COMPLETED_JOB = f"{INSERT_COMPLETED_JOB_ROW}RETURNING {_ALL_BUT_RESULT}\n"
GET_JOB = f"SELECT {JOB_COLUMNS} FROM jobs WHERE token = $1"
# A principal's jobs, newest first, optionally of one state and kind (the dashboard's list).
LIST_FOR_PRINCIPAL = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE principal_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR kind = $3)
  AND NOT ($5 AND $3::text IS NULL AND kind = 'help_er_batch')
ORDER BY created_at DESC, token
LIMIT $4
"""
# A batch's chunk helpers (help_er_batch, queued by the batch after it started).
HELPERS_OF = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE principal_id = $1 AND created_at >= $2 AND kind = 'help_er_batch'
  AND request->>'parent' = $3
ORDER BY created_at, token
LIMIT 200
"""
# How many of a principal's recent jobs finished in each of the last N minutes (0: this one).
# Bounded by created_at too, so the (principal_id, created_at) index does the work.
FINISHED_PER_MINUTE = """
SELECT floor(extract(epoch FROM now() - finished_at) / 60)::int AS minutes_ago, count(*) AS n
FROM jobs
WHERE principal_id = $1 AND created_at > now() - make_interval(mins => $2 + 60)
  AND finished_at > now() - make_interval(mins => $2)
GROUP BY 1
"""
# A key is honoured for 24 hours; an older job gives its key up to the new one.
FIND_BY_IDEMPOTENCY_KEY = f"""
SELECT {JOB_COLUMNS} FROM jobs
WHERE principal_id = $1 AND idempotency_key = $2 AND created_at > now() - interval '24 hours'
"""
RELEASE_EXPIRED_KEY = """
UPDATE jobs SET idempotency_key = NULL
WHERE principal_id = $1 AND idempotency_key = $2 AND created_at <= now() - interval '24 hours'
"""
# What a lease writes, whether the claim script or the handoff offered the job ($2 the worker, $3
# the lease's seconds).
_LEASE_SET = """\
SET attempts = attempts + 1, started_at = coalesce(started_at, now()), changed_at = now(),
    attempt_workers = array_append(attempt_workers, $2),
    attempt_started_at = array_append(attempt_started_at, now()),
    lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
    progress_message = CASE WHEN attempts = 0 THEN 'Running'
                            ELSE 'Running again after an interrupted attempt' END
"""
# Takes the jobs that are still unfinished and not leased by a live worker; a job another
# worker holds is left alone, so no job runs twice at the same time.
CLAIM_JOBS = f"""
UPDATE jobs
{_LEASE_SET}WHERE token = ANY($1::text[]) AND state = 'PROCESSING'
  AND (lease_expires_at IS NULL OR lease_expires_at < now())
RETURNING {JOB_COLUMNS}
"""
# The lease of jobs a wake named, which every idle worker tries at once: a row another
# transaction has locked (the winner's lease, an outcome being written) is skipped rather than
# waited for; the job stays queued, so the usual claim still finds it if nobody leased it.
# Its commit does not wait for the WAL's flush (synchronous_commit off for this statement's
# own transaction, set inside it: one round trip): a lease a crash loses only lets the job run
# again, and no outcome fenced by it becomes durable without it, since that outcome's own
# synchronous commit flushes (and replicates) the WAL in order, the lease's before it
# (docs/jobs.md, "Speed").
LEASE_OFFERED_JOBS = f"""
WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true) AS commit_mode),
free AS (
    SELECT token AS free_token FROM jobs, unflushed
    WHERE token = ANY($1::text[]) AND state = 'PROCESSING'
      AND (lease_expires_at IS NULL OR lease_expires_at < now()) AND commit_mode = 'off'
    FOR UPDATE OF jobs SKIP LOCKED
)
UPDATE jobs
{_LEASE_SET}FROM free
WHERE token = free_token AND state = 'PROCESSING'
  AND (lease_expires_at IS NULL OR lease_expires_at < now())
RETURNING {JOB_COLUMNS}
"""
# Why a token was not claimed: finished or unknown (drop it from the queue) or leased elsewhere.
# A lease that ran out between the claim and this look-up counts too: the job is unfinished, so
# it must stay queued (dropping it would leave it to the reconciler, seconds later).
LEASED_ELSEWHERE = """
SELECT token FROM jobs
WHERE token = ANY($1::text[]) AND state = 'PROCESSING'
"""
RENEW_LEASES = """
UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
WHERE token = ANY($1::text[]) AND lease_owner = $2 AND state = 'PROCESSING'
RETURNING token, cancel_requested
"""
# A worker that cannot run a job now (a dependency is down) gives its lease up at once.
RELEASE_LEASES = """
UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL
WHERE token = ANY($1::text[]) AND lease_owner = $2 AND state = 'PROCESSING'
"""
REPORT_PROGRESS = """
UPDATE jobs
SET progress_current = $2, progress_total = $3, progress_message = $4, changed_at = now(),
    etag = gen_random_uuid()
WHERE token = $1 AND state = 'PROCESSING'
RETURNING cancel_requested
"""
REQUEST_CANCEL = f"""
UPDATE jobs SET cancel_requested = true, changed_at = now(), etag = gen_random_uuid()
WHERE token = $1 AND state = 'PROCESSING'
RETURNING {JOB_COLUMNS}
"""
# Jobs the gateway refused to leave queued (the queue was down): no lease to fence with, and
# the key is given up so that the client's retry with it starts the job.
FAIL_UNQUEUED = """
UPDATE jobs
SET state = 'FAILED', error_status = $2, error_message = $3, finished_at = now(),
    changed_at = now(), progress_message = 'Failed', etag = gen_random_uuid(),
    idempotency_key = NULL
WHERE token = $1 AND state = 'PROCESSING'
"""
UNFINISHED_UNLEASED = """
SELECT token, kind, principal_id FROM jobs
WHERE state = 'PROCESSING' AND created_at < now() - make_interval(secs => $1)
  AND (lease_expires_at IS NULL OR lease_expires_at < now())
ORDER BY created_at
LIMIT $2
"""
# The second look, after Redis was asked: a job claimed or finished meanwhile is not lost.
STILL_UNLEASED = """
SELECT token FROM jobs
WHERE token = ANY($1::text[]) AND state = 'PROCESSING'
  AND (lease_expires_at IS NULL OR lease_expires_at < now())
"""
# One reconciler at a time per schema: the lock is keyed by the schema the tables live in.
TRY_RECONCILER_LOCK = (
    "SELECT pg_try_advisory_xact_lock(hashtext('brickyard-reconciler:' || current_schema()))"
)
# The runner's liveness probe: the cheapest statement that needs the server to answer.
PING = "SELECT 1"


async def insert(
    db: Executor,
    token: str,
    kind: str,
    principal_id: int,
    request: Any,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
    *,
    flush: bool = True,
) -> JobRecord:
    """``flush=False``: the commit does not wait for the WAL (see INSERT_JOB_UNFLUSHED)."""
    statement = INSERT_JOB if flush else INSERT_JOB_UNFLUSHED
    row = await db.fetchrow(
        statement, token, kind, principal_id, request, idempotency_key, request_sha256
    )
    return JobRecord.from_row(row)


async def insert_admitted(
    db: Executor,
    token: str,
    kind: str,
    principal_id: int,
    request: Any,
    idempotency_key: str | None,
    request_sha256: str | None,
    limits: tuple[int, int, int],
    *,
    flush: bool = True,
) -> tuple[JobRecord | None, int, int]:
    """:func:`insert` if the principal has room: ``limits`` are its unfinished jobs' limit, the
    items this job brings and its queued items' limit. Returns the job (None if refused) and
    the principal's queued jobs and items without it."""
    max_jobs, items, max_items = limits
    statement = INSERT_ADMITTED_JOB if flush else INSERT_ADMITTED_JOB_UNFLUSHED
    row = await db.fetchrow(
        statement, token, kind, principal_id, request, idempotency_key, request_sha256,
        max_jobs, items, max_items,
    )  # fmt: skip
    assert row is not None  # the counts always answer one row
    queued_jobs, queued_items = row["queued_jobs"], row["queued_items"]
    if row["token"] is None:
        return None, queued_jobs, queued_items
    columns = {name: value for name, value in row.items() if not name.startswith("queued_")}
    return JobRecord.from_row(columns), queued_jobs, queued_items


async def insert_completed(
    db: Executor,
    token: str,
    kind: str,
    principal_id: int,
    request: Any,
    result: Any,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
) -> JobRecord:
    args = completed_job_args(
        token, kind, principal_id, request, result, idempotency_key, request_sha256
    )
    row = await db.fetchrow(INSERT_COMPLETED_JOB, *args)
    return JobRecord.from_row({**row, "result_json": args[6]})


def completed_job_args(
    token: str,
    kind: str,
    principal_id: int,
    request: Any,
    result: Any,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
) -> list[Any]:
    """INSERT_COMPLETED_JOB's nine arguments; the seventh is the result as its JSON text."""
    return [
        token, kind, principal_id, request, idempotency_key, request_sha256, json_text(result),
        *item_counts(result),
    ]  # fmt: skip


async def make_durable(db: Executor, token: str) -> bool:
    """Wait until the job's row is flushed (and on a synchronous standby); False: it is gone."""
    return await db.fetchval(MAKE_DURABLE, token) is not None


async def get(db: Executor, token: str) -> JobRecord | None:
    row = await db.fetchrow(GET_JOB, token)
    return JobRecord.from_row(row) if row else None


async def list_for_principal(
    db: Executor,
    principal_id: int,
    state: str | None,
    kind: str | None,
    limit: int,
    *,
    fold_helpers: bool = False,
) -> list[JobRecord]:
    """Newest first. ``fold_helpers`` leaves out a batch's chunk helpers unless their kind is
    asked for: the dashboard shows them under their batch."""
    rows = await db.fetch(LIST_FOR_PRINCIPAL, principal_id, state, kind, limit, fold_helpers)
    return [JobRecord.from_row(row) for row in rows]


async def helpers_of(db: Executor, parent: JobRecord) -> list[JobRecord]:
    rows = await db.fetch(HELPERS_OF, parent.principal_id, parent.created_at, parent.token)
    return [JobRecord.from_row(row) for row in rows]


async def finished_per_minute(db: Executor, principal_id: int, minutes: int) -> list[int]:
    """Jobs finished in each of the last ``minutes`` minutes, oldest first."""
    counts = [0] * minutes
    for row in await db.fetch(FINISHED_PER_MINUTE, principal_id, minutes):
        if 0 <= row["minutes_ago"] < minutes:
            counts[minutes - 1 - row["minutes_ago"]] = row["n"]
    return counts


async def find_by_idempotency_key(db: Executor, principal_id: int, key: str) -> JobRecord | None:
    row = await db.fetchrow(FIND_BY_IDEMPOTENCY_KEY, principal_id, key)
    return JobRecord.from_row(row) if row else None


async def release_expired_key(db: Executor, principal_id: int, key: str) -> None:
    await db.execute(RELEASE_EXPIRED_KEY, principal_id, key)


async def claim(db: Executor, tokens: list[str], owner: str, lease_s: float) -> list[JobRecord]:
    rows = await db.fetch(CLAIM_JOBS, tokens, owner, lease_s)
    return [JobRecord.from_row(row) for row in rows]


async def lease_offered(
    db: Executor, tokens: list[str], owner: str, lease_s: float
) -> list[JobRecord]:
    """:func:`claim` that passes over rows locked by another transaction instead of waiting."""
    rows = await db.fetch(LEASE_OFFERED_JOBS, tokens, owner, lease_s)
    return [JobRecord.from_row(row) for row in rows]


async def leased_elsewhere(db: Executor, tokens: list[str]) -> set[str]:
    return {row["token"] for row in await db.fetch(LEASED_ELSEWHERE, tokens)}


async def renew_leases(
    db: Executor, tokens: list[str], owner: str, lease_s: float
) -> dict[str, bool]:
    """The tokens still leased to ``owner``, each with whether its cancellation was asked."""
    rows = await db.fetch(RENEW_LEASES, tokens, owner, lease_s)
    return {row["token"]: row["cancel_requested"] for row in rows}


async def release_leases(db: Executor, tokens: list[str], owner: str) -> None:
    await db.execute(RELEASE_LEASES, tokens, owner)


async def report_progress(db: Executor, token: str, current: int, total: int, message: str) -> bool:
    """Record progress; True when the job's starter has asked for it to be cancelled."""
    return bool(await db.fetchval(REPORT_PROGRESS, token, current, total, message))


async def request_cancel(db: Executor, token: str) -> JobRecord | None:
    row = await db.fetchrow(REQUEST_CANCEL, token)
    return JobRecord.from_row(row) if row else None


async def fail_unqueued(db: Executor, token: str, status: int, message: str) -> bool:
    return bool(await db.execute(FAIL_UNQUEUED, token, status, message) != "UPDATE 0")


async def still_unleased(db: Executor, tokens: list[str]) -> set[str]:
    return {row["token"] for row in await db.fetch(STILL_UNLEASED, tokens)}


async def unfinished_unleased(
    db: Executor, grace_s: float, limit: int
) -> list[tuple[str, str, int]]:
    """Token, kind and principal of each unfinished job no live lease covers, oldest first."""
    rows = await db.fetch(UNFINISHED_UNLEASED, grace_s, limit)
    return [(row["token"], row["kind"], row["principal_id"]) for row in rows]


async def try_reconciler_lock(conn: asyncpg.Connection) -> bool:
    """Whether this transaction now holds the reconciler's lock; it is let go at commit, so
    ``conn`` must be inside the caller's transaction."""
    return bool(await conn.fetchval(TRY_RECONCILER_LOCK))


async def ping(db: Executor) -> None:
    """Returns once PostgreSQL answers; raises what the driver raises when it does not."""
    await db.fetchval(PING)
