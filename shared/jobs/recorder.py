"""The one completion path: job outcomes are written once, in batches, and never dropped.

Outcomes that arrive while a write is in flight go into the next one, so a busy worker writes
many outcomes per statement and an idle one adds no delay. A write that fails because
PostgreSQL is unreachable is retried with backoff until it lands; the jobs keep their leases
meanwhile. Only after PostgreSQL has the outcome does Redis forget the job and announce it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import asyncpg
import structlog
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from redis.asyncio import Redis

from shared.jobs.channels import done_channel, done_message
from shared.jobs.fair_queue import forget_in
from shared.jobs.model import JobRecord
from shared.jobs.outcome_store import finish_returning_rows
from shared.jobs.runner import retry_through_outages
from shared.jobs.store import JobOutcome
from shared.outages import is_outage

log = structlog.get_logger(__name__)


async def forget_in_redis(
    redis: Redis,
    queue_name: str,
    tokens: list[str],
    announce: bool,
    rows: Mapping[str, JobRecord] | None = None,
) -> None:
    """Remove finished jobs from the queue and their keys, and wake whoever waits for them;
    ``rows``: final rows (committed) that the announcement carries to their waiters.

    Best effort: a job left behind is dropped by the next worker that claims it (PostgreSQL
    says it is finished), and waiters re-check after a lost subscription.
    """
    if not tokens:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zrem(queue_name, *tokens)
            pipe.delete(
                *(prefix + token for token in tokens for prefix in _KEY_PREFIXES),
            )
            forget_in(pipe, queue_name, tokens)
            if announce:
                pipe.publish(done_channel(queue_name), done_message(tokens, rows))
            await pipe.execute()
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("could not clear finished jobs from Redis", count=len(tokens), error=repr(exc))


_KEY_PREFIXES = (in_progress_key_prefix, job_key_prefix, retry_key_prefix)


class OutcomeRecorder:
    def __init__(self, pool: asyncpg.Pool, redis: Redis, queue_name: str, owner: str) -> None:
        self._pool = pool
        self._redis = redis
        self._queue_name = queue_name
        self._owner = owner
        self._pending: list[tuple[JobOutcome, asyncio.Future[bool], bool]] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._write_forever(), name="outcome-recorder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def record(self, outcome: JobOutcome, *, written: bool = False) -> bool:
        """Wait until the outcome is in PostgreSQL; False when the job was no longer ours.

        ``written``: the handler already recorded it in its own transaction; only Redis is
        left to update."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((outcome, future, written))
        self._ready.set()
        return await future

    async def _write_forever(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                batch, self._pending = self._pending, []
                batch = [entry for entry in batch if not entry[1].done()]
                if batch:
                    await self._write(batch)
        finally:
            for _, future, _ in self._pending:
                future.cancel()

    async def _write(self, batch: list[tuple[JobOutcome, asyncio.Future[bool], bool]]) -> None:
        outcomes = [outcome for outcome, _, written in batch if not written]
        # Each finished job, with its final row when the statement returned it.
        finished: dict[str, JobRecord | None] = {
            outcome.token: None for outcome, _, written in batch if written
        }
        try:
            if outcomes:
                finished |= await retry_through_outages(
                    lambda: finish_returning_rows(self._pool, outcomes, self._owner),
                    "recording job outcomes",
                )
        except asyncio.CancelledError:
            for _, future, _ in batch:
                future.cancel()
            raise
        except Exception as exc:
            # A bug, not an outage: each job's task sees it; the recorder goes on for the rest.
            log.exception("recording job outcomes failed")
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        # A job no longer ours (its lease lapsed and another worker took it over) is left to
        # its new owner, in PostgreSQL and in Redis alike.
        rows = {token: row for token, row in finished.items() if row is not None}
        await forget_in_redis(self._redis, self._queue_name, sorted(finished), True, rows)
        for outcome, future, _ in batch:
            if not future.done():
                future.set_result(outcome.token in finished)
