"""Runs one claimed job: call its handler and turn whatever happens into the job's outcome.

The contract of a job kind (docs/jobs.md, "Job handlers"): it parses its stored request into a
typed value once, its handler gets that value beside the job's context, and it queues child
jobs through that context. Delivery is at least once: a job whose worker died runs again, so
handlers must be safe to run twice; the one guard against a second run's writes is the
lease-fenced completion (``JobContext.complete_in``). A dependency outage is no failure of the
job: the handler runs again once PostgreSQL and Redis answer, and the job keeps its lease
meanwhile.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg
import structlog
from redis.asyncio import Redis

from shared.errors import BrickyardError, JobCancelled, ServiceUnavailable, error_for_status
from shared.jobs import store
from shared.jobs.model import JobRecord, JobState
from shared.jobs.queue import QueuedJob, enqueue
from shared.jobs.service import new_job_token
from shared.jobs.store import JobOutcome
from shared.outages import DependencyDown, backoff_delays, is_outage
from shared.settings import Settings

log = structlog.get_logger(__name__)
# How long the liveness probe waits for PostgreSQL before calling it down.
PROBE_TIMEOUT_S = 5.0


@dataclass(slots=True)
class JobContext:
    job: JobRecord
    pool: asyncpg.Pool
    redis: Redis
    settings: Settings
    # Set by the worker when a lease renewal reports that the job's starter asked to cancel.
    cancel_requested: bool = field(default=False)
    # Set when the handler recorded its result itself, atomically with its own writes.
    recorded: bool = field(default=False)
    # Re-runs spent on errors a lost connection leaves behind once the server is back.
    reruns_after_broken_connections: int = field(default=0)

    @property
    def token(self) -> str:
        return self.job.token

    @property
    def principal_id(self) -> int:
        return self.job.principal_id

    async def progress(self, current: int, total: int, message: str = "") -> None:
        """Record progress, and stop here if the job's starter asked to cancel it."""
        if await store.report_progress(self.pool, self.token, current, total, message):
            self.cancel_requested = True
        self.stop_if_cancelled()

    def stop_if_cancelled(self) -> None:
        if self.cancel_requested:
            raise JobCancelled()

    async def complete_in(self, conn: asyncpg.Connection, result: Any) -> None:
        """Record the result inside the handler's own transaction, atomically with its writes:
        the job's only completion write. Fenced by the lease: if another worker has taken the
        job over, the transaction rolls back and this run stops."""
        outcome = JobOutcome(self.token, JobState.COMPLETE, result=result)
        if not await store.finish(conn, [outcome], self.job.lease_owner):
            raise LeaseLost(self.token)
        self.recorded = True

    async def queue(
        self, kind: str, request: Any, count: int = 1, *, fair_group: str = ""
    ) -> list[str]:
        """Queue ``count`` child jobs of ``kind`` with this request (JSON), for this job's
        principal: ordinary jobs, leased, reconciled and cancelled like any other, each of
        cost 1 in ``fair_group`` of the principal's fair order (a batch's helpers: its
        collection; the batch already paid for its items). Their tokens; ServiceUnavailable
        when the queue refuses them (their rows end FAILED, 503)."""
        tokens = [new_job_token() for _ in range(count)]
        for token in tokens:
            await store.insert(self.pool, token, kind, self.principal_id, request)
        try:
            queued = [QueuedJob(kind, t, self.principal_id, group=fair_group) for t in tokens]
            limit = self.settings.running_jobs_per_principal
            await enqueue(self.redis, self.settings.queue_name, queued, running_limit=limit)
        except Exception as exc:
            if not is_outage(exc):
                raise
            for token in tokens:
                await store.fail_unqueued(self.pool, token, 503, "The job queue is unavailable")
            raise ServiceUnavailable("The job queue is unavailable") from exc
        log.info("child jobs queued", child_kind=kind, child_tokens=tokens)
        return tokens


class LeaseLost(asyncio.CancelledError):
    """This worker no longer holds the job: stop, and leave the job to its new owner."""


Request = TypeVar("Request")
# Turns a job's stored request (JSON) into the kind's typed value; a BrickyardError fails the job.
Parse = Callable[[Any], Request]
Handler = Callable[[JobContext, Request], Awaitable[Any]]
# Runs before a job is recorded FAILED or CANCELLED, whatever ended it (its handler, the
# timeout, too many interrupted attempts, a cancel), so a kind can settle what it left unfinished.
EndHook = Callable[[JobContext, Request, BrickyardError], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobKind(Generic[Request]):
    """One kind of job: how its request parses, what runs it, what settles its failure."""

    name: str
    parse: Parse[Request]
    handler: Handler[Request]
    on_failure: EndHook[Request] | None = None


async def run_claimed(context: JobContext, kind: JobKind[Request]) -> JobOutcome:
    """The outcome of one attempt at a claimed job; the failure hook has run when it failed."""
    # Bound and reset by token: ``bound_contextvars`` first copies every bound variable to
    # restore them, a measurable part of a no-op job's cost in the worker.
    tokens = structlog.contextvars.bind_contextvars(job_token=context.token, job_kind=kind.name)
    try:
        return await _run_bound(context, kind)
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


async def _run_bound(context: JobContext, kind: JobKind[Request]) -> JobOutcome:
    # Parsed when first needed (the handler, else the hook) and then kept: a handler run
    # again through an outage gets the same value.
    request = _Parsed(kind.parse, context.job.request)
    try:
        result = await _until_dependencies_answer(context, lambda: kind.handler(context, request()))
        # A failure is the lease holder's to settle: a run that lost the job may fail on
        # what the run that took it over wrote (a version already there).
        ended = await _ended_elsewhere(context) if isinstance(result, BrickyardError) else None
    except LeaseLost:
        ended = await _ended_elsewhere(context)
        if ended is None:
            raise
    if ended is not None:
        return ended
    if not isinstance(result, BrickyardError):
        log.info("job complete", attempt=context.job.attempts)
        return JobOutcome(context.token, JobState.COMPLETE, result=result)
    hook = kind.on_failure
    if hook is not None:
        await _settle(context, request, hook, result)
    state = JobState.CANCELLED if isinstance(result, JobCancelled) else JobState.FAILED
    # The outcome's one line: a 5xx is an error, and a crash's traceback rides on it.
    end = log.error if result.status >= 500 and state is JobState.FAILED else log.info
    end(
        "job ended",
        state=state.value,
        status=result.status,
        reason=result.message,
        exc_info=result.__cause__,
    )
    crash = result.__cause__ if result.status >= 500 else None
    trace = "".join(traceback.format_exception(crash))[-MAX_TRACEBACK:] if crash else None
    return JobOutcome(
        context.token, state, None, result.status, result.message, result.details, trace
    )


class _Parsed(Generic[Request]):
    """A request parsed on first call and then kept (``functools.cache`` built a wrapper per
    job, a measurable part of a no-op job's cost in the worker)."""

    __slots__ = ("_parse", "_parsed", "_raw", "_value")

    def __init__(self, parse: Parse[Request], raw: Any) -> None:
        self._parse, self._raw, self._parsed = parse, raw, False

    def __call__(self) -> Request:
        if not self._parsed:
            self._value = self._parse(self._raw)
            self._parsed = True
        return self._value


async def _settle(
    context: JobContext,
    request: Callable[[], Request],
    hook: EndHook[Request],
    error: BrickyardError,
) -> None:
    try:
        parsed = request()
    except Exception:
        # Nothing the kind could settle was ever started from a request it cannot read.
        log.warning("the failure hook is skipped: the request does not parse", exc_info=True)
        return
    await retry_through_outages(lambda: hook(context, parsed, error), "failure hook")


async def _ended_elsewhere(context: JobContext) -> JobOutcome | None:
    """None while this run still holds the job. Once the job has ended (the worker that took it
    over finished it, or an earlier run of this handler committed but its answer was lost),
    its outcome as recorded: this run's own writes rolled back with its refused completion, and
    only Redis is left to update. LeaseLost while another worker holds it."""
    job = await retry_through_outages(lambda: store.get(context.pool, context.token), "job state")
    if job is None or not job.done:
        if job is not None and job.lease_owner == context.job.lease_owner:
            return None
        raise LeaseLost(context.token)
    log.info("job had already ended; this run's writes are rolled back", state=job.state.value)
    context.recorded = True
    return JobOutcome(
        context.token, job.state, job.result, job.error_status, job.error_message,
        job.error_details,
    )  # fmt: skip


async def _postgres_is_down(pool: asyncpg.Pool) -> bool:
    """Whether PostgreSQL answers right now: an error a killed connection left behind looks
    like a bug until this probe says the server is gone."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await store.ping(pool)
    except Exception as exc:
        return is_outage(exc) or isinstance(exc, TimeoutError)
    return False


MAX_RERUNS_AFTER_BROKEN_CONNECTIONS = 3
MAX_TRACEBACK = 20_000  # its end: where the error was raised


def _broken_connection_rerun(context: JobContext, exc: Exception) -> bool:
    """Whether to run the handler again after an asyncpg client-state error.

    A connection killed mid-operation can leave asyncpg's protocol in a state it reports as
    "cannot switch to state ..." even after the server is back; handlers are safe to re-run,
    so a few re-runs settle it, and a real bug still fails the job after them."""
    if not isinstance(exc, asyncpg.InternalClientError | asyncpg.InterfaceError):
        return False
    if context.reruns_after_broken_connections >= MAX_RERUNS_AFTER_BROKEN_CONNECTIONS:
        return False
    context.reruns_after_broken_connections += 1
    return True


def _crashed(exc: Exception) -> BrickyardError:
    """A bug in the handler: the job fails with a 500; its outcome line carries the traceback."""
    error = BrickyardError("Internal error while running the job")
    error.__cause__ = exc
    return error


async def _until_dependencies_answer(
    context: JobContext, handle: Callable[[], Awaitable[Any]]
) -> Any:
    """The handler's result or the error the job ends with, retrying through outages."""
    for delay in backoff_delays():
        try:
            return await _attempt(context, handle)
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("a dependency is unreachable; the job runs again", error=repr(exc))
            await asyncio.sleep(delay)
    raise AssertionError("backoff_delays never ends")  # pragma: no mutate


async def retry_through_outages(action: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Run ``action`` until it gets past a dependency outage; other errors propagate."""
    for delay in backoff_delays():
        try:
            return await action()
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("a dependency is unreachable; retrying", what=what, error=repr(exc))
            await asyncio.sleep(delay)
    raise AssertionError("backoff_delays never ends")  # pragma: no mutate


async def _attempt(context: JobContext, handle: Callable[[], Awaitable[Any]]) -> Any:
    """The handler's result, or the error the job ends with. Outages propagate."""
    job, settings = context.job, context.settings
    if job.cancel_requested:
        return JobCancelled()
    if job.attempts > settings.job_max_tries:
        # Its worker died or was stopped every time: a job that keeps killing workers must
        # end FAILED rather than stay PROCESSING for ever.
        return BrickyardError(
            f"The job was interrupted {job.attempts - 1} times (its worker stopped each "
            "time); giving up"
        )
    deadline = asyncio.timeout(settings.job_timeout_s)
    try:
        async with deadline:
            return await handle()
    except BrickyardError as error:
        return error
    except TimeoutError as exc:
        if not deadline.expired():
            if is_outage(exc):
                raise
            return _crashed(exc)
        return error_for_status(504, f"The job did not finish within {settings.job_timeout_s:g} s")
    except LeaseLost:
        raise  # the handler's completion was refused: run_claimed looks at the job
    except asyncio.CancelledError:
        # A worker shutting down or a lost lease: the row stays PROCESSING and runs again.
        log.warning("job interrupted; it will run again")
        raise
    except Exception as exc:
        if is_outage(exc):
            raise
        if await _postgres_is_down(context.pool) or _broken_connection_rerun(context, exc):
            raise DependencyDown("PostgreSQL") from exc
        return _crashed(exc)
