"""Runs one job on a worker: claim the row, call the handler, record the outcome, announce it.

Delivery is at least once: a job whose worker died runs again, so handlers must be safe to run
twice, and a job already COMPLETE or FAILED is never run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from redis.asyncio import Redis

from shared.errors import BrickyardError, error_for_status
from shared.jobs import store
from shared.jobs.channels import done_channel
from shared.jobs.model import JobRecord
from shared.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class JobContext:
    job: JobRecord
    pool: asyncpg.Pool
    redis: Redis
    settings: Settings

    @property
    def token(self) -> str:
        return self.job.token

    @property
    def request(self) -> Any:
        return self.job.request

    @property
    def principal_id(self) -> int:
        return self.job.principal_id

    async def progress(self, current: int, total: int, message: str = "") -> None:
        await store.report_progress(self.pool, self.token, current, total, message)

    async def complete_in(self, conn: asyncpg.Connection, result: Any) -> None:
        """Record the result inside the handler's own transaction, atomically with its writes."""
        await store.complete(conn, self.token, result)


Handler = Callable[[JobContext], Awaitable[Any]]
# Runs before a job is recorded FAILED, whatever failed it (its handler, the timeout, too many
# interrupted attempts), so a job kind can settle what it left unfinished.
FailureHook = Callable[[JobContext, BrickyardError], Awaitable[None]]


async def run_job(
    pool: asyncpg.Pool,
    redis: Redis,
    settings: Settings,
    token: str,
    handler: Handler,
    on_failure: FailureHook | None = None,
) -> None:
    job = await store.start_attempt(pool, token)
    if job is None:
        log.info("job already finished or unknown; nothing to run", job_token=token)
        return
    context = JobContext(job, pool, redis, settings)
    with structlog.contextvars.bound_contextvars(job_token=token, job_kind=job.kind):
        outcome = await _attempt(context, handler)
        if isinstance(outcome, BrickyardError):
            if on_failure is not None:
                await on_failure(context, outcome)
            await store.fail(pool, token, outcome.status, outcome.message, outcome.details)
        else:
            await store.complete(pool, token, outcome)
            log.info("job complete")
        await redis.publish(done_channel(settings.queue_name), token)


async def _attempt(context: JobContext, handler: Handler) -> Any:
    """The handler's result, or the error the job fails with."""
    job, settings = context.job, context.settings
    if job.attempts > settings.job_max_tries:
        # Its worker died or was stopped every time: a job that keeps killing workers must
        # end FAILED rather than stay PROCESSING once the queue stops delivering it.
        log.error("job given up", attempts=job.attempts - 1)
        return BrickyardError(
            f"The job was interrupted {job.attempts - 1} times (its worker stopped each "
            "time); giving up"
        )
    log.info("job started", attempt=job.attempts)
    try:
        async with asyncio.timeout(settings.job_timeout_s):
            return await handler(context)
    except BrickyardError as error:
        log.info("job failed", status=error.status, reason=error.message)
        return error
    except TimeoutError:
        log.error("job timed out")
        return error_for_status(504, f"The job did not finish within {settings.job_timeout_s:g} s")
    except asyncio.CancelledError:
        # A worker shutting down: leave the row PROCESSING so the job runs again elsewhere.
        log.warning("job interrupted; it will run again")
        raise
    except Exception:
        log.exception("job crashed")
        return BrickyardError("Internal error while running the job")
