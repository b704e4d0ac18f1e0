from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import asyncpg
import structlog
from arq.connections import ArqRedis

from shared.auth import Principal
from shared.db import Executor
from shared.errors import (
    Conflict,
    Forbidden,
    JobTimeout,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    error_for_status,
)
from shared.jobs import store
from shared.jobs.model import JobRecord, JobState
from shared.jobs.queue import QueuedJob, enqueue
from shared.jobs.waiter import JobWaiter, Mark
from shared.observability.metrics import count_job
from shared.outages import is_outage
from shared.settings import Settings
from shared.tenancy.admission import Admission
from shared.tenancy.store import Queued

log = structlog.get_logger(__name__)

# Writes a job kind's own rows (a staged batch) in the transaction that records the job, so
# both exist or neither does. Called with the connection and the new job's token.
Stage = Callable[[asyncpg.Connection, str], Awaitable[None]]
# Writes a new job's row, given its token, and whatever must commit with it.
Write = Callable[[asyncpg.Connection, str], Awaitable[JobRecord]]
# Settles what a job that the queue refused leaves behind (items, staged rows).
OnRefused = Callable[[JobRecord], Awaitable[None]]

IDEMPOTENCY_CONSTRAINT = "jobs_idempotency"


def new_job_token() -> str:
    # 128 random bits, hex: unguessable, and safe in URLs and as an arq job id.
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's Idempotency-Key and a digest of the request it came with."""

    key: str
    request_sha256: str


class SubmitOptions(TypedDict, total=False):
    """What a job kind adds to a submit: its Idempotency-Key, what it stages with its row and
    what settles a refused enqueue."""

    idempotency: IdempotencyKey | None
    stage: Stage | None
    on_refused: OnRefused | None


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

    async def submit(
        self,
        kind: str,
        principal: Principal,
        request: Any,
        *,
        idempotency: IdempotencyKey | None = None,
        stage: Stage | None = None,
        on_refused: OnRefused | None = None,
        cost: int = 1,
        fair_group: str = "",
        durable: bool = True,
    ) -> JobRecord:
        """Record the job and queue it; with a key seen before, the first job and nothing new.
        ``cost`` (its items, for a batch) sets how far the job moves its principal's clock in
        the queue's fair order, ``fair_group`` (an ER batch's collection) which of the
        principal's clocks. ``durable=False``: the caller tells no one of the job before its
        outcome (``run_and_wait``), so a row recorded in one statement may commit without
        waiting for the WAL's flush; the outcome's commit flushes it."""
        key, digest = (idempotency.key, idempotency.request_sha256) if idempotency else (None, None)

        admission = stage if isinstance(stage, Admission) else None
        # Nothing else to write atomically: one statement, no transaction round trips.
        one_statement = idempotency is None and (stage is None or admission is not None)
        flush = durable or not one_statement

        async def write(conn: Executor, token: str) -> JobRecord:
            if admission is not None:
                # The admission's lock and count ride in the insert: one statement.
                return await self._insert_admitted(
                    conn, token, kind, request, key, digest, admission, flush=flush
                )
            job = await store.insert(
                conn, token, kind, principal.id, request, key, digest, flush=flush
            )
            if stage is not None:
                assert isinstance(conn, asyncpg.Connection)
                await stage(conn, token)
            return job

        if one_statement:
            job = await write(self._pool, new_job_token())
            is_new = True
        else:
            job, is_new = await self._record(principal, idempotency, write)
        if not is_new:
            log.info("idempotent replay", job_token=job.token, job_kind=kind)
            return job
        try:
            queued = QueuedJob(kind, job.token, principal.id, cost, fair_group)
            await enqueue(
                self._redis,
                self._settings.queue_name,
                [queued],
                running_limit=self._settings.running_jobs_per_principal,
            )
        except Exception as exc:
            if not is_outage(exc):
                raise
            # Never leave a row that claims to be PROCESSING while the caller hears "refused".
            await store.fail_unqueued(self._pool, job.token, 503, "The job queue is unavailable")
            if on_refused is not None:
                await on_refused(job)
            log.error("enqueue failed", job_token=job.token, job_kind=kind, error=str(exc))
            raise ServiceUnavailable("The job queue is unavailable; try again later") from exc
        log.info("job accepted", job_token=job.token, job_kind=kind, principal=principal.name)
        return job

    async def run_here(
        self,
        kind: str,
        principal: Principal,
        request: Any,
        run: Callable[[asyncpg.Connection, str], Awaitable[Any]],
        *,
        idempotency: IdempotencyKey | None = None,
    ) -> JobRecord:
        """A job short enough to run in its caller: ``run`` does its work and returns its
        result inside the transaction that records the job, which commits COMPLETE or not at
        all, and is never queued. A key seen before answers with the first job."""
        began, mark = time.monotonic(), self.mark()
        key, digest = (idempotency.key, idempotency.request_sha256) if idempotency else (None, None)

        async def write(conn: asyncpg.Connection, token: str) -> JobRecord:
            result = await run(conn, token)
            return await store.insert_completed(
                conn, token, kind, principal.id, request, result, key, digest
            )

        job, is_new = await self._record(principal, idempotency, write)
        if is_new:
            count_job(kind, JobState.COMPLETE.value, time.monotonic() - began)
            log.info("job complete", job_token=job.token, job_kind=kind, ran_in="gateway")
            return job
        log.info("idempotent replay", job_token=job.token, job_kind=kind)
        return job if job.done else await self.wait(job.token, unfinished_at=mark)

    async def _insert_admitted(
        self,
        db: Executor,
        token: str,
        kind: str,
        request: Any,
        key: str | None,
        digest: str | None,
        admission: Admission,
        *,
        flush: bool,
    ) -> JobRecord:
        settings = admission.settings
        limits = (
            settings.unfinished_jobs_per_principal,
            admission.items,
            settings.queued_items_per_principal,
        )
        job, jobs, items = await store.insert_admitted(
            db, token, kind, admission.principal_id, request, key, digest, limits, flush=flush
        )
        if job is None:
            admission.refuse_if_over(Queued(jobs=jobs, items=items))
            raise AssertionError("the insert was refused with room under every limit")
        return job

    async def _record(
        self, principal: Principal, idempotency: IdempotencyKey | None, write: Write
    ) -> tuple[JobRecord, bool]:
        """The job ``write`` records (with whatever goes with it), in one transaction; or the
        first job of a key seen before, and False."""
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                if idempotency is not None:
                    earlier = await self._earlier(conn, principal, idempotency)
                    if earlier is not None:
                        return earlier, False
                return await write(conn, new_job_token()), True
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != IDEMPOTENCY_CONSTRAINT or idempotency is None:
                raise
            # The same key raced in from a concurrent request, which recorded its job first.
            earlier = await self._earlier(self._pool, principal, idempotency)
            if earlier is None:
                raise
            return earlier, False

    async def _earlier(
        self, db: Executor, principal: Principal, idempotency: IdempotencyKey
    ) -> JobRecord | None:
        earlier = await store.find_by_idempotency_key(db, principal.id, idempotency.key)
        if earlier is None:
            await store.release_expired_key(db, principal.id, idempotency.key)
            return None
        if earlier.request_sha256 != idempotency.request_sha256:
            raise Unprocessable(
                f"The Idempotency-Key '{idempotency.key}' was used with a different request; "
                "use a new key for a new request"
            )
        return earlier

    async def get_for(self, token: str, principal: Principal) -> JobRecord:
        job = await store.get(self._pool, token)
        if job is None:
            raise NotFound(f"No job has the token '{token}'")
        if job.principal_id != principal.id:
            raise Forbidden("This job was started by another principal")
        return job

    async def cancel(self, token: str, principal: Principal) -> JobRecord:
        """Ask a running job to stop; it ends CANCELLED at its next step."""
        job = await self.get_for(token, principal)
        if job.state is JobState.CANCELLED:
            return job
        if job.done:
            raise Conflict(f"Job {token} already ended {job.state.value}; nothing to cancel")
        cancelling = await store.request_cancel(self._pool, token)
        if cancelling is None:
            return await self.get_for(token, principal)  # it ended meanwhile
        log.info("job cancel requested", job_token=token, job_kind=job.kind)
        return cancelling

    def mark(self) -> Mark | None:
        """Taken before a job is submitted, it lets ``wait`` skip its first read of the job."""
        return None if self._waiter is None else self._waiter.mark()

    async def wait(
        self, token: str, timeout_s: float | None = None, *, unfinished_at: Mark | None = None
    ) -> JobRecord:
        """Wait for a job to finish, woken by the workers' completion messages (which carry
        the job's final row, when small). ``unfinished_at``: a ``mark`` taken before the job
        was last seen unfinished (submitted), so that no first read is needed."""
        if self._waiter is None:
            raise RuntimeError("JobService.wait needs a JobWaiter")
        timeout = self._settings.sync_wait_timeout_s if timeout_s is None else timeout_s

        async def finished() -> JobRecord | None:
            job = await store.get(self._pool, token)
            return job if job is not None and job.done else None

        return await self._waiter.wait(token, finished, timeout, unfinished_at=unfinished_at)

    async def run_and_wait(
        self, kind: str, principal: Principal, request: Any, **submit_options: Unpack[SubmitOptions]
    ) -> Any:
        """Submit a job and wait for it: its result, or its failure raised as the domain error."""
        mark = self.mark()
        submitted = await self.submit(kind, principal, request, durable=False, **submit_options)
        try:
            job = await self.wait(submitted.token, unfinished_at=None if submitted.done else mark)
        except JobTimeout:
            # The answer names the token: its row must outlive a crash from here on.
            if not await store.make_durable(self._pool, submitted.token):
                raise ServiceUnavailable("The job was lost; try again") from None
            raise
        if job.state is not JobState.COMPLETE:
            raise error_for_status(job.error_status or 500, job.error_message or "Job failed")
        return job.result
