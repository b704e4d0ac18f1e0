"""The job runner without servers: a handler's outcomes, the timeout, the give-up boundary,
cancellation, lease fencing, and retrying through outages (a fake pool stands in for asyncpg)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
import redis.exceptions
import structlog
from structlog.testing import capture_logs

from shared.errors import BadRequest, BrickyardError, JobCancelled, ServiceUnavailable
from shared.jobs import runner
from shared.jobs.model import JobRecord, JobState
from shared.jobs.runner import (
    JobContext,
    JobKind,
    LeaseLost,
    retry_through_outages,
    run_claimed,
)
from shared.jobs.store import JobOutcome
from shared.outages import DependencyDown
from shared.settings import Settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)
OUTAGE = asyncpg.exceptions.CannotConnectNowError("starting up")


class FakePool:
    """Answers ``fetchval`` (the progress report and the liveness probe) and ``fetch`` (finish)."""

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self.calls: list[tuple[Any, ...]] = []
        self.rows: list[dict[str, str]] = []
        self.job: dict[str, Any] | None = None

    async def fetchval(self, *args: Any) -> Any:
        self.calls.append(args)
        if self.error is not None:
            raise self.error
        return self.value

    async def fetch(self, *args: Any) -> list[dict[str, str]]:
        self.calls.append(args)
        return self.rows

    async def fetchrow(self, *args: Any) -> dict[str, Any] | None:
        """The job's row, as the runner reads it after a failure (still this worker's)."""
        return self.job


def record(**changes: Any) -> JobRecord:
    job = JobRecord(
        token="t" * 32, kind="selftest", principal_id=7, state=JobState.PROCESSING,
        progress_current=0, progress_total=0, progress_message="", request={"a": 1},
        result_json=None, error_status=None, error_message=None, error_details=None, attempts=1,
        etag="e", created_at=NOW, started_at=NOW, changed_at=NOW, finished_at=None,
        lease_owner="worker-1", lease_expires_at=None, cancel_requested=False,
        idempotency_key=None, request_sha256=None, items_stored=None, items_failed=None,
        attempt_workers=["worker-1"], attempt_started_at=[NOW], crash_traceback=None,
    )  # fmt: skip
    return dataclasses.replace(job, **changes)


def context(pool: FakePool | None = None, **changes: Any) -> JobContext:
    settings = Settings(job_timeout_s=5.0, job_max_tries=3)
    pool = pool or FakePool()
    job = record(**changes)
    pool.job = dataclasses.asdict(job)
    return JobContext(job, pool, None, settings)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    def delays(first_s: float = 0.2, cap_s: float = 5.0) -> Iterator[float]:
        while True:
            yield 0.0

    monkeypatch.setattr(runner, "backoff_delays", delays)


def kind(handler: Any, on_failure: Any = None, parse: Any = dict) -> JobKind[Any]:
    return JobKind("selftest", parse, handler, on_failure)


def failing(error: BaseException, times: int = 1 << 30) -> Any:
    """A handler that raises ``error`` its first ``times`` calls, then returns "done"."""
    calls: list[int] = []

    async def handler(job: JobContext, request: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


async def test_a_result_completes_the_job() -> None:
    async def handler(job: JobContext, request: Any) -> Any:
        assert job.token == "t" * 32 and request == {"a": 1} and job.principal_id == 7
        # Every log line of the job names it.
        assert structlog.contextvars.get_contextvars() == {
            "job_token": "t" * 32,
            "job_kind": "selftest",
        }
        return {"ok": True}

    with capture_logs() as logs:
        outcome = await run_claimed(context(), kind(handler))
    assert outcome == JobOutcome("t" * 32, JobState.COMPLETE, result={"ok": True})
    assert logs == [
        {"event": "job complete", "attempt": 1, "log_level": "info"},
    ]


async def test_an_error_fails_the_job_with_its_status_and_runs_the_hook() -> None:
    seen: list[tuple[JobContext, BrickyardError]] = []

    async def hook(job: JobContext, request: Any, error: BrickyardError) -> None:
        seen.append((job, error))

    error = BadRequest("no good", details={"field": "x"})
    job = context()
    with capture_logs() as logs:
        outcome = await run_claimed(job, kind(failing(error), hook))
    assert outcome == JobOutcome("t" * 32, JobState.FAILED, None, 400, "no good", {"field": "x"})
    assert seen == [(job, error)]
    assert [(e["event"], e["log_level"], e["status"], e["state"], e["reason"]) for e in logs] == [
        ("job ended", "info", 400, "FAILED", "no good")
    ]


async def test_a_crash_is_a_500_logged_as_an_error_with_its_cause() -> None:
    crash = KeyError("bug")
    with capture_logs() as logs:
        outcome = await run_claimed(context(FakePool(1)), kind(failing(crash)))
    # The traceback is kept with the job too (its dashboard page shows it to operators).
    assert outcome.crash_traceback is not None and "KeyError: 'bug'" in outcome.crash_traceback
    assert dataclasses.replace(outcome, crash_traceback=None) == JobOutcome(
        "t" * 32, JobState.FAILED, None, 500, "Internal error while running the job", None
    )
    (line,) = logs
    assert line["log_level"] == "error" and line["exc_info"] is crash


async def test_a_cancelled_job_ends_cancelled_logged_as_info() -> None:
    with capture_logs() as logs:
        outcome = await run_claimed(context(), kind(failing(JobCancelled())))
    assert outcome.state is JobState.CANCELLED
    assert (outcome.error_status, outcome.error_message) == (409, "cancelled")
    assert logs[0]["log_level"] == "info" and logs[0]["state"] == "CANCELLED"


async def test_a_cancel_requested_before_the_start_never_runs_the_handler() -> None:
    handler = failing(AssertionError("ran"))
    outcome = await run_claimed(context(cancel_requested=True), kind(handler))
    assert outcome.state is JobState.CANCELLED
    assert handler.calls == []


@pytest.mark.parametrize("attempts", [1, 2, 3])
async def test_attempts_up_to_the_maximum_run_the_handler(attempts: int) -> None:
    async def handler(job: JobContext, request: Any) -> Any:
        return job.job.attempts

    outcome = await run_claimed(context(attempts=attempts), kind(handler))
    assert outcome == JobOutcome("t" * 32, JobState.COMPLETE, result=attempts)


async def test_one_attempt_past_the_maximum_gives_up_without_running() -> None:
    handler = failing(AssertionError("ran"))
    seen: list[BrickyardError] = []

    async def hook(job: JobContext, request: Any, error: BrickyardError) -> None:
        seen.append(error)

    outcome = await run_claimed(context(attempts=4), kind(handler, hook))
    assert outcome == JobOutcome(
        "t" * 32,
        JobState.FAILED,
        None,
        500,
        "The job was interrupted 3 times (its worker stopped each time); giving up",
        None,
    )
    assert handler.calls == [] and len(seen) == 1


async def test_a_job_past_its_timeout_is_a_504() -> None:
    async def slow(job: JobContext, request: Any) -> Any:
        await asyncio.sleep(10)

    job = context()
    job.settings = dataclasses.replace(job.settings, job_timeout_s=0.05)
    started = asyncio.get_running_loop().time()
    outcome = await run_claimed(job, kind(slow))
    assert asyncio.get_running_loop().time() - started < 2
    assert outcome == JobOutcome(
        "t" * 32, JobState.FAILED, None, 504, "The job did not finish within 0.05 s", None
    )


async def test_a_timeout_error_of_the_handler_own_is_a_crash() -> None:
    mine = TimeoutError("mine")
    with capture_logs() as logs:
        outcome = await run_claimed(context(FakePool(1)), kind(failing(mine)))
    assert (outcome.error_status, outcome.error_message) == (
        500,
        "Internal error while running the job",
    )
    assert logs[-1]["exc_info"] is mine


def timeout_in_asyncpg() -> TimeoutError:
    """A TimeoutError raised inside asyncpg's code, as a connect that times out raises it."""
    namespace: dict[str, Any] = {"__name__": "asyncpg.connect_utils"}
    exec("def connect():\n    raise TimeoutError('connect timed out')", namespace)
    try:
        namespace["connect"]()
    except TimeoutError as exc:
        return exc
    raise AssertionError("unreachable")


async def test_a_timeout_error_that_is_a_postgres_outage_runs_again() -> None:
    handler = failing(timeout_in_asyncpg(), times=1)
    outcome = await run_claimed(context(), kind(handler))
    assert outcome.result == "done" and len(handler.calls) == 2


async def test_an_outage_runs_the_handler_again() -> None:
    handler = failing(OUTAGE, times=2)
    with capture_logs() as logs:
        outcome = await run_claimed(context(), kind(handler))
    assert outcome.state is JobState.COMPLETE and outcome.result == "done"
    assert len(handler.calls) == 3
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [(e["event"], e["error"]) for e in warnings] == [
        ("a dependency is unreachable; the job runs again", repr(OUTAGE))
    ] * 2


async def test_an_error_while_postgres_is_down_is_an_outage_not_a_crash() -> None:
    pool = FakePool(error=OUTAGE)
    handler = failing(RuntimeError("cannot switch to state"), times=1)

    async def flaky(job: JobContext, request: Any) -> Any:
        if handler.calls:
            pool.error = None  # the server is back for the second run
        return await handler(job, request)

    outcome = await run_claimed(context(pool), kind(flaky))
    assert outcome.state is JobState.COMPLETE
    assert len(handler.calls) == 2


async def test_a_timeout_error_that_is_an_outage_runs_again() -> None:
    handler = failing(redis.exceptions.TimeoutError("slow redis"), times=1)
    outcome = await run_claimed(context(), kind(handler))
    assert outcome.result == "done" and len(handler.calls) == 2


async def test_a_graceful_stop_mid_job_propagates_and_leaves_the_job_running() -> None:
    started = asyncio.Event()

    async def long(job: JobContext, request: Any) -> Any:
        started.set()
        await asyncio.sleep(10)

    with capture_logs() as logs:
        task = asyncio.create_task(run_claimed(context(), kind(long)))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [e["event"] for e in logs] == ["job interrupted; it will run again"]


async def test_the_failure_hook_is_retried_through_outages() -> None:
    calls: list[int] = []

    async def hook(job: JobContext, request: Any, error: BrickyardError) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OUTAGE

    with capture_logs() as logs:
        outcome = await run_claimed(context(), kind(failing(BadRequest("x")), hook))
    assert outcome.state is JobState.FAILED and len(calls) == 2
    assert [(e["event"], e["what"], e["error"]) for e in logs if e["log_level"] == "warning"] == [
        ("a dependency is unreachable; retrying", "failure hook", repr(OUTAGE))
    ]


async def test_retry_through_outages_returns_or_raises_other_errors() -> None:
    calls: list[int] = []

    async def action() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OUTAGE
        return "ok"

    with capture_logs() as logs:
        assert await retry_through_outages(action, "thing") == "ok"
    assert [e["what"] for e in logs] == ["thing", "thing"]

    async def broken() -> None:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await retry_through_outages(broken, "thing")


@pytest.mark.parametrize(
    ("error", "down"),
    [(None, False), (OUTAGE, True), (TimeoutError(), True), (ValueError("x"), False)],
)
async def test_the_postgres_probe(error: BaseException | None, down: bool) -> None:
    pool = FakePool(1, error)
    assert await runner._postgres_is_down(pool) is down  # type: ignore[arg-type]
    assert pool.calls == [("SELECT 1",)]


async def test_a_postgres_that_does_not_answer_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging:
        async def fetchval(self, *args: Any) -> Any:
            await asyncio.sleep(10)

    monkeypatch.setattr(runner, "PROBE_TIMEOUT_S", 0.02)
    assert await runner._postgres_is_down(Hanging()) is True  # type: ignore[arg-type]


async def test_a_crash_while_postgres_is_down_raises_dependency_down() -> None:
    job = context(FakePool(error=OUTAGE))
    with pytest.raises(DependencyDown) as caught:
        await runner._attempt(job, lambda: failing(RuntimeError("lost"))(job, None))
    assert caught.value.dependency == "PostgreSQL"
    assert isinstance(caught.value.__cause__, RuntimeError)


async def test_progress_is_recorded_and_a_cancel_request_stops_the_job() -> None:
    pool = FakePool(False)
    job = context(pool)
    await job.progress(1, 4, "a quarter")
    assert pool.calls[-1][1:] == ("t" * 32, 1, 4, "a quarter")
    assert job.cancel_requested is False
    pool.value = True
    with pytest.raises(JobCancelled):
        await job.progress(2, 4)
    assert job.cancel_requested is True
    assert pool.calls[-1][1:] == ("t" * 32, 2, 4, "")
    with pytest.raises(JobCancelled):
        job.stop_if_cancelled()


async def test_complete_in_is_fenced_by_the_lease() -> None:
    conn = FakePool()
    job = context()
    with pytest.raises(LeaseLost) as lost:
        await job.complete_in(conn, {"r": 1})  # type: ignore[arg-type]
    assert str(lost.value) == "t" * 32
    assert job.recorded is False
    _, tokens, states, results, *_, owner, tracebacks, stored, failed = conn.calls[-1]
    assert (tokens, states, results) == (["t" * 32], ["COMPLETE"], ['{"r":1}'])
    assert owner == "worker-1" and tracebacks == [None]  # fenced by this worker's lease
    assert stored == failed == [None]  # no batch result: no item counts
    conn.rows = [{"token": "t" * 32}]
    await job.complete_in(conn, {"r": 1})  # type: ignore[arg-type]
    assert job.recorded is True
    assert issubclass(LeaseLost, asyncio.CancelledError)


async def test_service_unavailable_from_a_handler_is_its_own_failure() -> None:
    outcome = await run_claimed(context(), kind(failing(ServiceUnavailable("busy"))))
    assert (outcome.state, outcome.error_status) == (JobState.FAILED, 503)


BROKEN = asyncpg.InternalClientError(
    "cannot switch to state 12; another operation (2) is in progress"
)


async def test_a_connection_left_broken_by_an_outage_runs_the_handler_again() -> None:
    handler = failing(BROKEN, times=2)  # the server is up again, the old connection is not
    outcome = await run_claimed(context(FakePool(1)), kind(handler))
    assert outcome.state is JobState.COMPLETE and outcome.result == "done"
    assert len(handler.calls) == 3


async def test_a_client_state_error_that_persists_is_a_crash_after_three_reruns() -> None:
    handler = failing(BROKEN)
    outcome = await run_claimed(context(FakePool(1)), kind(handler))
    assert (outcome.state, outcome.error_status) == (JobState.FAILED, 500)
    assert len(handler.calls) == 1 + runner.MAX_RERUNS_AFTER_BROKEN_CONNECTIONS


async def test_a_broken_connection_reruns_the_handler_three_times_then_crashes() -> None:
    broken = asyncpg.InterfaceError("cannot switch to state 15; another operation is in progress")
    handler = failing(broken)
    with capture_logs() as logs:
        outcome = await run_claimed(context(FakePool(1)), kind(handler))
    assert len(handler.calls) == runner.MAX_RERUNS_AFTER_BROKEN_CONNECTIONS + 1 == 4
    assert (outcome.state, outcome.error_status) == (JobState.FAILED, 500)
    assert logs[-1]["exc_info"] is broken
    settled = failing(asyncpg.exceptions.InternalClientError("bad state"), times=3)
    assert (await run_claimed(context(FakePool(1)), kind(settled))).result == "done"
    assert len(settled.calls) == 4


async def test_other_errors_are_never_rerun() -> None:
    handler = failing(KeyError("bug"))
    job = context(FakePool(1))
    await run_claimed(job, kind(handler))
    assert len(handler.calls) == 1 and job.reruns_after_broken_connections == 0


class Parsed:
    """A kind's typed request, and how often its parser ran."""

    def __init__(self, value: Any) -> None:
        self.value = value

    parses: list[Any] = []

    @classmethod
    def parse(cls, stored: Any) -> Parsed:
        cls.parses.append(stored)
        if stored.get("bad"):
            raise BadRequest("not a request of this kind")
        return cls(stored["a"])


@pytest.fixture(autouse=True)
def no_parses() -> None:
    Parsed.parses = []


async def test_the_request_is_parsed_once_and_the_handler_and_hook_get_the_value() -> None:
    seen: list[Any] = []

    async def handler(job: JobContext, request: Parsed) -> Any:
        seen.append(request)
        if len(seen) == 1:
            raise OUTAGE  # runs again with the same value
        raise BadRequest("fails after the outage")

    async def hook(job: JobContext, request: Parsed, error: BrickyardError) -> None:
        seen.append(request)

    outcome = await run_claimed(context(), kind(handler, hook, Parsed.parse))
    assert outcome.error_status == 400
    assert Parsed.parses == [{"a": 1}] and len(seen) == 3
    assert all(request is seen[0] for request in seen) and seen[0].value == 1


async def test_a_request_that_does_not_parse_fails_the_job_and_skips_the_hook() -> None:
    handler, hooked = failing(AssertionError("ran")), failing(AssertionError("hooked"))
    outcome = await run_claimed(context(request={"bad": 1}), kind(handler, hooked, Parsed.parse))
    assert (outcome.state, outcome.error_status) == (JobState.FAILED, 400)
    assert outcome.error_message == "not a request of this kind"
    assert handler.calls == [] and hooked.calls == []


async def test_a_job_cancelled_before_it_ran_is_parsed_for_its_hook() -> None:
    seen: list[Parsed] = []

    async def hook(job: JobContext, request: Parsed, error: BrickyardError) -> None:
        seen.append(request)

    job = context(cancel_requested=True)
    outcome = await run_claimed(job, kind(failing(AssertionError("ran")), hook, Parsed.parse))
    assert outcome.state is JobState.CANCELLED and [r.value for r in seen] == [1]


async def test_a_failure_of_a_run_that_lost_the_job_is_not_settled_here() -> None:
    hooked = failing(AssertionError("hooked"))
    job = context()
    assert job.pool.job is not None  # type: ignore[attr-defined]
    job.pool.job["lease_owner"] = "worker-2"  # type: ignore[attr-defined]
    with pytest.raises(LeaseLost):
        await run_claimed(job, kind(failing(BadRequest("already exists")), hooked))
    assert hooked.calls == []


async def test_a_run_whose_job_ended_elsewhere_answers_with_the_recorded_outcome() -> None:
    job = context()
    row = job.pool.job  # type: ignore[attr-defined]
    row.update(state="COMPLETE", result_json='{"by": "worker-2"}', lease_owner=None)

    async def refused(job: JobContext, request: Any) -> Any:
        raise LeaseLost(job.token)  # as complete_in raises when the fence refuses it

    for handler in (refused, failing(BadRequest("already exists"))):
        job.recorded = False
        outcome = await run_claimed(job, kind(handler))
        assert outcome == JobOutcome("t" * 32, JobState.COMPLETE, result={"by": "worker-2"})
        assert job.recorded  # only Redis is left to update


async def test_a_refused_completion_while_another_worker_holds_the_job_stops_the_run() -> None:
    job = context()
    job.pool.job["lease_owner"] = "worker-2"  # type: ignore[attr-defined]

    async def refused(job: JobContext, request: Any) -> Any:
        raise LeaseLost(job.token)

    with pytest.raises(LeaseLost):
        await run_claimed(job, kind(refused))
    assert not job.recorded
