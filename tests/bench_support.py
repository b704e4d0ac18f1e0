"""What every ``make bench`` scenario module shares: the registry, isolation, child processes.

The registry lives here rather than in ``tests.bench`` because ``python -m tests.bench`` runs
that module as ``__main__``: a scenario module importing ``tests.bench`` would load a second
copy with a second, empty registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from arq.connections import ArqRedis

from shared.auth import SCOPES, Principal
from shared.db import create_pool
from shared.jobs import JobWaiter
from shared.migrations import apply_migrations
from shared.services import Services, create_redis
from shared.settings import Settings

Scenario = Callable[[Services, Principal], Awaitable[dict[str, Any]]]
SCENARIOS: dict[str, Scenario] = {}

Process = asyncio.subprocess.Process
T = TypeVar("T")


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def isolated_settings(settings: Settings) -> Settings:
    suffix = secrets.token_hex(4)
    return settings.replace(
        database_schema=f"bench_{suffix}",
        queue_name=f"brickyard-bench:{suffix}",
        log_level="warning",
    )


@contextlib.asynccontextmanager
async def isolated(settings: Settings) -> AsyncIterator[tuple[Services, Principal]]:
    """Services over a schema and queue of their own, so no run sees another run's jobs.

    The schema and the queue's keys are dropped afterwards; all that stays in Redis is job
    results, which expire.
    """
    settings = isolated_settings(settings)
    async with contextlib.AsyncExitStack() as stack:
        conn = await asyncpg.connect(settings.database_url)
        stack.push_async_callback(conn.close)
        await apply_migrations(conn, settings.database_schema)
        stack.push_async_callback(conn.execute, f'DROP SCHEMA "{settings.database_schema}" CASCADE')
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        redis = await create_redis(settings)
        stack.push_async_callback(redis.aclose)
        stack.push_async_callback(drop_queue_keys, redis, settings.queue_name)
        waiter = JobWaiter(redis, settings.queue_name)
        await waiter.start()
        stack.push_async_callback(waiter.stop)
        services = Services.build(settings, pool, redis, waiter)
        principal = await services.auth.authenticate(
            await services.auth.create_token("bench", sorted(SCOPES))
        )
        yield services, principal


async def drop_queue_keys(redis: ArqRedis, queue_name: str) -> None:
    """Whatever the queue and its workers keep under the queue's name (the bench's own)."""
    keys = [key async for key in redis.scan_iter(match=f"{queue_name}*", count=1000)]
    if keys:
        await redis.delete(*keys)


def brickyard_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, **settings.to_env()}


@contextlib.asynccontextmanager
async def python_processes(
    count: int, *args: str, env: dict[str, str] | None = None, spread_s: float = 0.0
) -> AsyncIterator[list[Process]]:
    """``count`` children running ``python -m ARGS``, started ``spread_s / count`` apart and
    stopped on the way out whatever happens."""
    children: list[Process] = []
    try:
        for index in range(count):
            if index:
                await asyncio.sleep(spread_s / count)
            children.append(
                await asyncio.create_subprocess_exec(sys.executable, "-m", *args, env=env)
            )
        yield children
    finally:
        await stop(children)


@contextlib.asynccontextmanager
async def brickyard_workers(settings: Settings, count: int) -> AsyncIterator[list[Process]]:
    """Real ``brickyard worker`` processes, as ``brickyard run`` or an operator starts them."""
    async with python_processes(
        count, "shared.cli", "worker", env=brickyard_env(settings)
    ) as children:
        yield children


async def while_alive(children: list[Process], awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``, failing at once if every child exits first (say, a worker that cannot
    start) rather than after the long timeout of whatever was awaited."""
    task = asyncio.ensure_future(awaitable)
    exits = asyncio.ensure_future(asyncio.gather(*(child.wait() for child in children)))
    await asyncio.wait({task, exits}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        exits.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await exits
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    codes = [child.returncode for child in children]
    raise RuntimeError(f"every worker process exited (codes {codes}); see their output above")


async def stop(children: list[Process], grace_s: float = 5.0) -> None:
    """SIGTERM, and SIGKILL for any child still there after ``grace_s``."""
    for child in children:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
    for child in children:
        try:
            await asyncio.wait_for(child.wait(), grace_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
