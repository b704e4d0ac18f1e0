from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.asyncio import Redis

from shared.errors import JobTimeout
from shared.jobs.channels import done_channel, done_tokens, listen_forever

log = structlog.get_logger(__name__)
T = TypeVar("T")


class JobWaiter:
    """One Redis subscription per process that wakes every caller waiting for a job to finish.

    A waiter checks the job once before sleeping (so a job that finished before the
    subscription saw it is not missed) and again each time it is woken. After a lost Redis
    connection every waiter is woken to check again, since messages may have been missed.
    """

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self._redis = redis
        self._channel = done_channel(queue_name)
        self._waiters: dict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="job-waiter")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        def subscribed() -> None:
            self._subscribed.set()
            self._wake_all()

        await listen_forever(self._redis, self._channel, self._wake, subscribed)

    def _wake(self, message: str) -> None:
        for token in done_tokens(message):
            self._wake_token(token)

    def _wake_token(self, token: str) -> None:
        for future in self._waiters.get(token, ()):
            if not future.done():
                future.set_result(None)

    def _wake_all(self) -> None:
        for token in list(self._waiters):
            self._wake_token(token)

    async def wait(
        self, token: str, check: Callable[[], Awaitable[T | None]], timeout_s: float
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters[token].add(future)
            try:
                outcome = await check()
                if outcome is not None:
                    return outcome
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise JobTimeout(
                        f"Job {token} did not finish within {timeout_s:g} s; it is still running "
                        f"and its result will be at /async/get/{token}"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, remaining)
            finally:
                waiting = self._waiters.get(token)
                if waiting is not None:
                    waiting.discard(future)
                    if not waiting:
                        del self._waiters[token]
