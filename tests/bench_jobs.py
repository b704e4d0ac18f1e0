"""Job-core figures for ``make bench``: Brickyard worker processes beside stock arq, same Redis.

Each figure has its anchor measured in the same run: stock arq's own worker
(``tests.bench_stock_arq``, every setting at its default, 0.5 s poll) running a no-op task,
started as processes the same way. The queue is filled before the workers start and
held back until all of them are up; rates come from the jobs' own start and finish times, so
neither filling nor process start-up counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis
from arq.jobs import Job
from arq.utils import timestamp_ms

from shared.auth import Principal
from shared.jobs.fair_queue import defer
from shared.redis_url import redis_settings
from shared.services import Services
from shared.settings import Settings
from tests.bench_breakdown import Breakdown, describe
from tests.bench_support import (
    Process,
    brickyard_workers,
    drop_queue_keys,
    isolated,
    isolated_settings,
    percentile,
    python_processes,
    scenario,
    while_alive,
)

# Brickyard drains its jobs in a second or two, stock arq at about 200 a second per poll; each
# count keeps its drain long enough that the first and last polls weigh little.
BRICKYARD_JOBS = 10_000
STOCK_JOBS = 5000
WORKER_COUNTS = (1, 2, 4)
ROUND_TRIPS = 300
STOCK_ROUND_TRIPS = 40  # each one waits out part of a 0.5 s poll
CHUNK = 200  # jobs submitted (or results read) concurrently
DRAIN_TIMEOUT_S = 300.0
# Jobs are held back until every worker process is up: one takes 0.2-0.4 s to start here.
START_UP_S = 2.0
NOOP = {"sleepSeconds": 0, "message": "", "fail": None}

STATE_SQL = """
SELECT count(*) FILTER (WHERE state = 'COMPLETE') AS complete,
       count(*) FILTER (WHERE state <> 'PROCESSING') AS finished,
       extract(epoch FROM max(finished_at) - min(started_at)) AS span_s
FROM jobs
"""


async def in_chunks(count: int, make: Callable[[], Awaitable[Any]]) -> list[Any]:
    done: list[Any] = []
    while len(done) < count:
        done += await asyncio.gather(*(make() for _ in range(min(CHUNK, count - len(done)))))
    return done


async def stock_pool(settings: Settings, queue_name: str) -> ArqRedis:
    assert settings.redis_url
    return await create_pool(redis_settings(settings.redis_url), default_queue_name=queue_name)


@dataclass(frozen=True)
class ArqTuning:
    """arq's own settings for the stock anchor: its defaults, or its best (the peers' table)."""

    poll_delay_s: float = 0.5
    max_jobs: int | None = None  # arq's default, 10

    def args(self) -> list[str]:
        """No flags at all for the defaults, so that anchor stays arq exactly as shipped."""
        tuned = ["--poll-delay", str(self.poll_delay_s)] if self.poll_delay_s != 0.5 else []
        return tuned + (["--max-jobs", str(self.max_jobs)] if self.max_jobs else [])


ARQ_DEFAULTS = ArqTuning()
ARQ_BEST = ArqTuning(poll_delay_s=0.01, max_jobs=100)
# What the job-core scenarios measured this run, so the peers' table reuses rather than repeats
# them (tests.bench_peer_jobs); keys like "brickyard_drain_2", "brickyard_trips".
MEASURED: dict[str, Any] = {}


def stock_workers(
    settings: Settings,
    queue_name: str,
    count: int,
    *,
    burst: bool,
    tuning: ArqTuning = ARQ_DEFAULTS,
) -> contextlib.AbstractAsyncContextManager[list[Process]]:
    assert settings.redis_url
    args = ["tests.bench_stock_arq", settings.redis_url, queue_name, *tuning.args()]
    # Started a poll delay apart in all, so that their polls interleave rather than read
    # the same jobs at the same moment: stock arq at its best.
    return python_processes(
        count, *args, *(["--burst"] if burst else []), spread_s=tuning.poll_delay_s
    )


async def forget(redis: ArqRedis, job_ids: list[str]) -> None:
    """Stock arq keeps results an hour; the bench leaves nothing behind in a shared Redis."""
    for start in range(0, len(job_ids), 1000):
        await redis.delete(*(f"arq:result:{job_id}" for job_id in job_ids[start : start + 1000]))


async def hold_back(redis: ArqRedis, queue_name: str, count: int, fair: bool) -> list[bytes]:
    """Make every queued job due in an hour, so that no worker takes one while others start.
    Brickyard's queue is in fair order, not by due time: its jobs wait in its deferred set."""
    held = await redis.zrange(queue_name, 0, -1)
    if len(held) != count:
        raise RuntimeError(f"{queue_name} holds {len(held)} of the {count} jobs queued")
    await _due_at(redis, queue_name, held, timestamp_ms() + 3_600_000, fair)
    return held


async def release(redis: ArqRedis, queue_name: str, held: list[bytes], fair: bool) -> None:
    """All the held jobs due at once (one command), for workers that are all up and polling."""
    await asyncio.sleep(START_UP_S)
    await _due_at(redis, queue_name, held, timestamp_ms(), fair)


async def _due_at(
    redis: ArqRedis, queue_name: str, jobs: list[bytes], due_ms: int, fair: bool
) -> None:
    if fair:
        await defer(redis, queue_name, [job.decode() for job in jobs], due_ms)
    else:
        await redis.zadd(queue_name, dict.fromkeys(jobs, due_ms), xx=True)


def drain_figures(count: int, complete: int, span_s: float | None) -> dict[str, Any]:
    figures: dict[str, Any] = {"jobs": count, "per_s": round(complete / span_s) if span_s else 0}
    if complete < count:
        figures["not_complete"] = count - complete
    return figures


async def brickyard_drain(settings: Settings, workers: int) -> dict[str, Any]:
    """Pre-fill a fresh queue with durable no-op jobs, then let ``workers`` processes drain it."""
    count = BRICKYARD_JOBS
    async with isolated(settings) as (services, principal):
        began = time.perf_counter()
        await in_chunks(count, lambda: services.jobs.submit("selftest", principal, NOOP))
        submit_s = time.perf_counter() - began
        queue_name = services.settings.queue_name
        held = await hold_back(services.redis, queue_name, count, fair=True)
        breakdown = Breakdown(services.pool, services.redis, count)
        async with brickyard_workers(services.settings, workers) as children:
            await release(services.redis, queue_name, held, fair=True)
            await breakdown.before(child.pid for child in children)

            async def drained() -> Any:
                deadline = time.monotonic() + DRAIN_TIMEOUT_S
                while True:
                    row = await services.pool.fetchrow(STATE_SQL)
                    if row["finished"] >= count or time.monotonic() > deadline:
                        return row
                    await asyncio.sleep(0.2)

            row = await while_alive(children, drained())
            await breakdown.workers_done(child.pid for child in children)
        await breakdown.after()
    span_s = float(row["span_s"]) if row["span_s"] is not None else None
    figures = drain_figures(count, row["complete"], span_s)
    return {**figures, "submit_per_s": round(count / submit_s), "breakdown": breakdown.figures()}


async def stock_drain(
    settings: Settings, workers: int, tuning: ArqTuning = ARQ_DEFAULTS
) -> dict[str, Any]:
    """The same drain by stock arq burst workers: no-op jobs, default settings unless tuned."""
    count = STOCK_JOBS
    queue_name = isolated_settings(settings).queue_name + ":stock"
    redis = await stock_pool(settings, queue_name)
    try:
        jobs = await in_chunks(count, lambda: redis.enqueue_job("noop"))
        job_ids = [job.job_id for job in jobs]
        held = await hold_back(redis, queue_name, count, fair=False)
        async with stock_workers(
            settings, queue_name, workers, burst=True, tuning=tuning
        ) as children:
            # Held-back jobs still count as queued, so burst workers wait for them.
            await release(redis, queue_name, held, fair=False)
            # A burst worker exits once the queue is empty; on a timeout, count what finished.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(child.wait() for child in children)), DRAIN_TIMEOUT_S
                )
        results = []
        for start in range(0, count, CHUNK):
            results += await asyncio.gather(
                *(
                    Job(job_id, redis, _queue_name=queue_name).result_info()
                    for job_id in job_ids[start : start + CHUNK]
                )
            )
        await forget(redis, job_ids)
        await drop_queue_keys(redis, queue_name)
    finally:
        await redis.aclose()
    done = [r for r in results if r is not None and r.success]
    span_s = (
        (max(r.finish_time for r in done) - min(r.start_time for r in done)).total_seconds()
        if done
        else None
    )
    return drain_figures(count, len(done), span_s)


@scenario("jobs: throughput, no-op jobs drained by 1, 2, 4 worker processes vs stock arq burst")
async def job_throughput(services: Services, principal: Principal) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for workers in WORKER_COUNTS:
        ours = await brickyard_drain(services.settings, workers)
        stock = await stock_drain(services.settings, workers)
        ours_per_s, stock_per_s = ours.pop("per_s"), stock.pop("per_s")
        MEASURED[f"brickyard_drain_{workers}"] = ours_per_s
        ratio = round(ours_per_s / stock_per_s, 2) if stock_per_s else None
        label = f"{workers} process" + ("es" if workers > 1 else "")
        figures[label] = {
            "brickyard_per_s": ours_per_s,
            "stock_arq_per_s": stock_per_s,
            "ratio": ratio,
            **{f"brickyard_{k}": v for k, v in ours.items()},
            **{f"stock_arq_{k}": v for k, v in stock.items()},
        }
        print(
            f"  {label}: Brickyard {ours_per_s} jobs/s, "
            f"stock arq {stock_per_s} jobs/s, ratio {ratio}",
            file=sys.stderr,
            flush=True,
        )
        print(f"    Brickyard {describe(ours['breakdown'])}", file=sys.stderr, flush=True)
    return figures


async def timed_ms(call: Callable[[], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await call()
    return (time.perf_counter() - began) * 1000


async def brickyard_round_trips(settings: Settings) -> list[float]:
    async with isolated(settings) as (services, principal):

        async def trip() -> Any:
            return await services.jobs.run_and_wait("selftest", principal, NOOP)

        async with brickyard_workers(services.settings, 2) as children:
            await while_alive(children, trip())  # returns once the first worker is up
            # Long enough for the second process to be up too, and connections warm.
            warm_until = time.monotonic() + 2.0
            while time.monotonic() < warm_until:
                await trip()
            return [await timed_ms(trip) for _ in range(ROUND_TRIPS)]


async def stock_round_trips(
    settings: Settings, trips: int = STOCK_ROUND_TRIPS, tuning: ArqTuning = ARQ_DEFAULTS
) -> list[float]:
    queue_name = isolated_settings(settings).queue_name + ":stock"
    redis = await stock_pool(settings, queue_name)
    job_ids: list[str] = []

    async def trip() -> Any:
        job = await redis.enqueue_job("noop")
        assert job is not None
        job_ids.append(job.job_id)
        return await job.result(timeout=60, poll_delay=0.01)

    try:
        async with stock_workers(settings, queue_name, 2, burst=False, tuning=tuning) as children:
            await while_alive(children, trip())  # returns once the first worker is up
            for _ in range(2):
                await trip()
            return [await timed_ms(trip) for _ in range(trips)]
    finally:
        await forget(redis, job_ids)
        await drop_queue_keys(redis, queue_name)
        await redis.aclose()


@scenario("jobs: round trip, submit to result, 2 worker processes vs stock arq")
async def job_round_trip(services: Services, principal: Principal) -> dict[str, Any]:
    ours = await brickyard_round_trips(services.settings)
    MEASURED["brickyard_trips"] = ours
    stock = await stock_round_trips(services.settings)
    return {
        "trips": len(ours),
        "p50_ms": round(statistics.median(ours), 2),
        "p95_ms": round(percentile(ours, 0.95), 2),
        "stock_arq_trips": len(stock),
        "stock_arq_p50_ms": round(statistics.median(stock), 1),
        "stock_arq_p95_ms": round(percentile(stock, 0.95), 1),
        "stock_over_brickyard_p50": round(statistics.median(stock) / statistics.median(ours), 1),
    }
