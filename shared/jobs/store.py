"""SQL for the jobs table, in one place."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.jobs.model import JobRecord

INSERT_JOB = """
INSERT INTO jobs (token, kind, principal_id, request, progress_message)
VALUES ($1, $2, $3, $4, 'Queued')
RETURNING *
"""
GET_JOB = "SELECT * FROM jobs WHERE token = $1"
START_ATTEMPT = """
UPDATE jobs
SET attempts = attempts + 1, started_at = coalesce(started_at, now()), changed_at = now(),
    progress_message = CASE WHEN attempts = 0 THEN 'Running' ELSE 'Running again after an interrupted attempt' END
WHERE token = $1 AND state = 'PROCESSING'
RETURNING *
"""
REPORT_PROGRESS = """
UPDATE jobs
SET progress_current = $2, progress_total = $3, progress_message = $4, changed_at = now(),
    etag = gen_random_uuid()
WHERE token = $1 AND state = 'PROCESSING'
"""
COMPLETE_JOB = """
UPDATE jobs
SET state = 'COMPLETE', result = $2, finished_at = now(), changed_at = now(),
    progress_current = greatest(progress_current, progress_total), progress_message = 'Complete',
    etag = gen_random_uuid()
WHERE token = $1 AND state = 'PROCESSING'
"""
FAIL_JOB = """
UPDATE jobs
SET state = 'FAILED', error_status = $2, error_message = $3, error_details = $4,
    finished_at = now(), changed_at = now(), progress_message = 'Failed', etag = gen_random_uuid()
WHERE token = $1 AND state = 'PROCESSING'
"""

Executor = asyncpg.Pool | asyncpg.Connection


async def insert(db: Executor, token: str, kind: str, principal_id: int, request: Any) -> JobRecord:
    return JobRecord.from_row(await db.fetchrow(INSERT_JOB, token, kind, principal_id, request))


async def get(db: Executor, token: str) -> JobRecord | None:
    row = await db.fetchrow(GET_JOB, token)
    return JobRecord.from_row(row) if row else None


async def start_attempt(db: Executor, token: str) -> JobRecord | None:
    row = await db.fetchrow(START_ATTEMPT, token)
    return JobRecord.from_row(row) if row else None


async def report_progress(db: Executor, token: str, current: int, total: int, message: str) -> None:
    await db.execute(REPORT_PROGRESS, token, current, total, message)


async def complete(db: Executor, token: str, result: Any) -> bool:
    return await db.execute(COMPLETE_JOB, token, result) != "UPDATE 0"


async def fail(db: Executor, token: str, status: int, message: str, details: Any = None) -> bool:
    return await db.execute(FAIL_JOB, token, status, message, details) != "UPDATE 0"
