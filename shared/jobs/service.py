from __future__ import annotations

import secrets
from typing import Any

import asyncpg
import structlog
from arq.connections import ArqRedis

from shared.auth import Principal
from shared.errors import Forbidden, NotFound, ServiceUnavailable, error_for_status
from shared.jobs import store
from shared.jobs.channels import wake_channel
from shared.jobs.model import JobRecord, JobState
from shared.jobs.waiter import JobWaiter
from shared.settings import Settings

log = structlog.get_logger(__name__)


def new_job_token() -> str:
    # 128 random bits, hex: unguessable, and safe in URLs and as an arq job id.
    return secrets.token_hex(16)


class JobService:
    """Accepts jobs (durable row first, then the arq job) and answers questions about them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: ArqRedis,
        settings: Settings,
        waiter: JobWaiter | None = None,
    ) -> None:
        self._pool = pool
        self._redis = redis
        self._settings = settings
        self._waiter = waiter

    async def submit(self, kind: str, principal: Principal, request: Any) -> JobRecord:
        token = new_job_token()
        job = await store.insert(self._pool, token, kind, principal.id, request)
        try:
            await self._redis.enqueue_job(
                kind, token, _job_id=token, _queue_name=self._settings.queue_name
            )
            await self._redis.publish(wake_channel(self._settings.queue_name), token)
        except Exception as exc:
            # Never leave a row that claims to be PROCESSING while no worker will ever see it.
            await store.fail(self._pool, token, 503, "The job queue is unavailable")
            log.error("enqueue failed", job_token=token, job_kind=kind, error=str(exc))
            raise ServiceUnavailable("The job queue is unavailable; try again later") from exc
        log.info("job accepted", job_token=token, job_kind=kind, principal=principal.name)
        return job

    async def get_for(self, token: str, principal: Principal) -> JobRecord:
        job = await store.get(self._pool, token)
        if job is None:
            raise NotFound(f"No job has the token '{token}'")
        if job.principal_id != principal.id:
            raise Forbidden("This job was started by another principal")
        return job

    async def wait(self, token: str, timeout_s: float | None = None) -> JobRecord:
        """Wait for a job to finish, woken by the workers' completion messages."""
        if self._waiter is None:
            raise RuntimeError("JobService.wait needs a JobWaiter")
        timeout = self._settings.sync_wait_timeout_s if timeout_s is None else timeout_s

        async def finished() -> JobRecord | None:
            job = await store.get(self._pool, token)
            return job if job is not None and job.done else None

        return await self._waiter.wait(token, finished, timeout)

    async def run_and_wait(self, kind: str, principal: Principal, request: Any) -> Any:
        """Submit a job and wait for it: its result, or its failure raised as the domain error."""
        job = await self.wait((await self.submit(kind, principal, request)).token)
        if job.state is JobState.FAILED:
            raise error_for_status(job.error_status or 500, job.error_message or "Job failed")
        return job.result
