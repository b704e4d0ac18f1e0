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

from shared.errors import BrickyardError
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


async def run_job(
    pool: asyncpg.Pool, redis: Redis, settings: Settings, token: str, handler: Handler
) -> None:
    job = await store.start_attempt(pool, token)
    if job is None:
        log.info("job already finished or unknown; nothing to run", job_token=token)
        return
    with structlog.contextvars.bound_contextvars(job_token=token, job_kind=job.kind):
        if job.attempts > settings.job_max_tries:
            # Its worker died or was stopped every time: a job that keeps killing workers must
            # end FAILED rather than stay PROCESSING once the queue stops delivering it.
            message = (
                f"The job was interrupted {job.attempts - 1} times (its worker stopped "
                "each time); giving up"
            )
            await store.fail(pool, token, 500, message)
            log.error("job given up", attempts=job.attempts - 1)
            await redis.publish(done_channel(settings.queue_name), token)
            return
        log.info("job started", attempt=job.attempts)
        try:
            async with asyncio.timeout(settings.job_timeout_s):
                result = await handler(JobContext(job, pool, redis, settings))
        except BrickyardError as error:
            await store.fail(pool, token, error.status, error.message, error.details)
            log.info("job failed", status=error.status, reason=error.message)
        except TimeoutError:
            message = f"The job did not finish within {settings.job_timeout_s:g} s"
            await store.fail(pool, token, 504, message)
            log.error("job timed out")
        except asyncio.CancelledError:
            # A worker shutting down: leave the row PROCESSING so the job runs again elsewhere.
            log.warning("job interrupted; it will run again")
            raise
        except Exception:
            log.exception("job crashed")
            await store.fail(pool, token, 500, "Internal error while running the job")
        else:
            await store.complete(pool, token, result)
            log.info("job complete")
        await redis.publish(done_channel(settings.queue_name), token)
