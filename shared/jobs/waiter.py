from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from shared.errors import JobTimeout
from shared.jobs.channels import (
    carried_record,
    done_channel,
    done_rows,
    done_tokens,
    listen_forever,
)
from shared.jobs.model import JobRecord

log = structlog.get_logger(__name__)
# Announced tokens remembered, for a wait that begins just after its job's announcement.
RECENT_MAX = 4096


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment of the waiter's subscription: which subscription, and how many tokens it had
    heard announced."""

    subscription: int
    heard: int


class JobWaiter:
    """One Redis subscription per process that wakes every caller waiting for a job to finish.

    A waiter checks the job once before sleeping (so a job that finished before the
    subscription saw it is not missed) and again each time it is woken, unless the
    announcement carried the job's final row. After a lost Redis connection every waiter is
    woken to check again, since messages may have been missed.

    A caller that saw its job unfinished after taking a ``mark`` (it submitted the job then)
    may skip the first check: the waiter remembers the tokens announced since, so it knows
    the job has not finished, unless its subscription was lost or it heard too many to say.
    """

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self._redis = redis
        self._channel = done_channel(queue_name)
        self._waiters: dict[str, set[asyncio.Future[JobRecord | None]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._subscription = 0
        self._heard = 0
        self._recent: OrderedDict[str, None] = OrderedDict()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="job-waiter")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def mark(self) -> Mark:
        return Mark(self._subscription, self._heard)

    def _unheard_since(self, mark: Mark, token: str) -> bool:
        """Whether ``token`` was surely not announced since ``mark``."""
        unbroken = mark.subscription == self._subscription and self._subscribed.is_set()
        remembered = self._heard - mark.heard <= RECENT_MAX
        return unbroken and remembered and token not in self._recent

    async def _listen(self) -> None:
        def subscribed() -> None:
            self._subscription += 1
            self._subscribed.set()
            self._wake_all()

        await listen_forever(self._redis, self._channel, self._wake, subscribed)

    def _wake(self, message: str) -> None:
        tokens = done_tokens(message)
        self._heard += len(tokens)
        for token in tokens:
            self._recent[token] = None
        while len(self._recent) > RECENT_MAX:
            self._recent.popitem(last=False)
        awaited = [token for token in tokens if token in self._waiters]
        if not awaited:
            return
        rows = done_rows(message)
        for token in awaited:
            row = rows.get(token)
            self._wake_token(token, None if row is None else self._decoded(row))

    @staticmethod
    def _decoded(row: str) -> JobRecord | None:
        try:
            return carried_record(row)
        except Exception:
            # A row this process cannot read (a newer worker's format): read it from the table.
            log.warning("could not read a job row carried by its announcement", exc_info=True)
            return None

    def _wake_token(self, token: str, record: JobRecord | None = None) -> None:
        for future in self._waiters.get(token, ()):
            if not future.done():
                future.set_result(record)

    def _wake_all(self) -> None:
        for token in list(self._waiters):
            self._wake_token(token)

    async def wait(
        self,
        token: str,
        check: Callable[[], Awaitable[JobRecord | None]],
        timeout_s: float,
        *,
        unfinished_at: Mark | None = None,
    ) -> JobRecord:
        """The job once finished: carried by its announcement, else as ``check`` reads it.

        ``unfinished_at``: a mark taken before the caller last saw the job unfinished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        skip_check = unfinished_at is not None and self._unheard_since(unfinished_at, token)
        while True:
            future: asyncio.Future[JobRecord | None] = loop.create_future()
            self._waiters[token].add(future)
            try:
                outcome = None if skip_check else await check()
                skip_check = False
                if outcome is not None:
                    return outcome
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise JobTimeout(
                        f"Job {token} did not finish within {timeout_s:g} s; it is still running "
                        f"and its result will be at /async/get/{token}"
                    )
                with contextlib.suppress(TimeoutError):
                    carried = await asyncio.wait_for(future, remaining)
                    if carried is not None and carried.done:
                        return carried
            finally:
                waiting = self._waiters.get(token)
                if waiting is not None:
                    waiting.discard(future)
                    if not waiting:
                        del self._waiters[token]
