"""``make bench``: performance figures and ratios, printed and written to bench-results/.

Runs against ``BRICKYARD_DATABASE_URL`` / ``BRICKYARD_REDIS_URL`` when set, else embedded servers,
in a schema and queue of its own that it drops afterwards. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from shared.auth import SCOPES, Principal
from shared.db import create_pool
from shared.embedded import services_for
from shared.jobs import JobWaiter
from shared.migrations import apply_migrations
from shared.services import Services, create_redis
from shared.settings import Settings
from worker.settings import make_worker

Scenario = Callable[[Services, Principal], Awaitable[dict[str, Any]]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


@contextlib.asynccontextmanager
async def workers(settings: Settings, count: int, **overrides: Any) -> AsyncIterator[None]:
    running = [make_worker(settings, **overrides) for _ in range(count)]
    tasks = [asyncio.create_task(worker.main()) for worker in running]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task, worker in zip(tasks, running, strict=True):
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await worker.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def round_trips(services: Services, principal: Principal, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        await services.jobs.run_and_wait(
            "selftest", principal, {"sleepSeconds": 0, "message": "", "fail": None}
        )
        timings.append((time.perf_counter() - began) * 1000)
    return timings


@scenario("job round trip (submit, run, wait)")
async def job_round_trip(services: Services, principal: Principal) -> dict[str, Any]:
    async with workers(services.settings, 2):
        await round_trips(services, principal, 20)  # warm up connections
        prompt = await round_trips(services, principal, 300)
    # The same path with arq's stock pick-up: polling the queue every 0.5 s, no wake-up message.
    async with workers(services.settings, 2, poll_delay=0.5, wake_on_enqueue=False):
        stock = await round_trips(services, principal, 20)
    return {
        "p50_ms": round(statistics.median(prompt), 2),
        "p95_ms": round(percentile(prompt, 0.95), 2),
        "stock_arq_poll_p50_ms": round(statistics.median(stock), 2),
        "speedup_vs_stock_poll": round(statistics.median(stock) / statistics.median(prompt), 1),
    }


@scenario("job throughput (2 workers, 2000 jobs)")
async def job_throughput(services: Services, principal: Principal) -> dict[str, Any]:
    count = 2000
    began = time.perf_counter()
    tokens = []
    for _ in range(count):
        job = await services.jobs.submit(
            "selftest", principal, {"sleepSeconds": 0, "message": "", "fail": None}
        )
        tokens.append(job.token)
    submitted = time.perf_counter()
    async with workers(services.settings, 2):
        for token in tokens:
            await services.jobs.wait(token)
    finished = time.perf_counter()
    return {
        "submit_per_s": round(count / (submitted - began)),
        "run_per_s": round(count / (finished - submitted)),
    }


async def run(selected: list[str]) -> dict[str, Any]:
    base = Settings.from_env()
    with services_for(base) as resolved:
        suffix = secrets.token_hex(4)
        settings = resolved.replace(
            database_schema=f"bench_{suffix}",
            queue_name=f"brickyard-bench:{suffix}",
            log_level="warning",
        )
        conn = await asyncpg.connect(settings.database_url)
        await apply_migrations(conn, settings.database_schema)
        pool = await create_pool(settings)
        redis = await create_redis(settings)
        waiter = JobWaiter(redis, settings.queue_name)
        await waiter.start()
        services = Services.build(settings, pool, redis, waiter)
        principal = await services.auth.authenticate(
            await services.auth.create_token("bench", sorted(SCOPES))
        )
        results: dict[str, Any] = {}
        try:
            for name, function in SCENARIOS.items():
                if selected and not any(s in name for s in selected):
                    continue
                print(f"- {name} ...", file=sys.stderr, flush=True)
                results[name] = await function(services, principal)
                print(f"  {json.dumps(results[name])}", flush=True)
        finally:
            await waiter.stop()
            await redis.aclose()
            await pool.close()
            await conn.execute(f'DROP SCHEMA "{settings.database_schema}" CASCADE')
            await conn.close()
        return results


def main() -> None:
    from shared.logging import configure_logging

    configure_logging(Settings(log_level="warning"), process="bench", stream=sys.stderr)
    results = asyncio.run(run(sys.argv[1:]))
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out / 'latest.json'}")


if __name__ == "__main__":
    main()
