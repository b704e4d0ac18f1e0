"""SQL the operator views read: the cluster's status, its gauges and the dashboard's charts.

Every read is bounded by a statement timeout, so a huge jobs table slows a scrape or a chart
down to an error, never to a held connection."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.db import Row, fetch_as
from shared.observability.rows import FinishedInMinute, QueueAtMinute, RunTimes

# Every job ever recorded: finished ones too, so that the counts agree with the API.
JOBS_BY_KIND_AND_STATE = """
SELECT kind, state, count(*) AS jobs FROM jobs GROUP BY kind, state ORDER BY kind, state
"""
# Queue latency: the oldest unfinished job that no live lease covers, per kind, counted from
# when it was submitted (a job interrupted and waiting again counts from its submission too).
# The partial index jobs_unfinished covers state = 'PROCESSING'.
OLDEST_WAITING = """
SELECT kind, extract(epoch FROM now() - min(created_at))::float8 AS age_s
FROM jobs
WHERE state = 'PROCESSING' AND (lease_expires_at IS NULL OR lease_expires_at < now())
GROUP BY kind ORDER BY kind
"""
# Jobs finished in each of the last $1 minutes (0: this one), across principals.
THROUGHPUT = """
SELECT floor(extract(epoch FROM now() - finished_at) / 60)::int AS minutes_ago,
       count(*) FILTER (WHERE state = 'COMPLETE') AS complete,
       count(*) FILTER (WHERE state = 'FAILED') AS failed,
       coalesce(sum(coalesce(items_stored, 0) + coalesce(items_failed, 0)), 0)::bigint AS items
FROM jobs
WHERE finished_at > now() - make_interval(mins => $1)
GROUP BY 1
"""
# At each of the last $1 minutes: how many jobs were submitted and not yet started, and how long
# the oldest of them had waited. From the job rows' times, so no new state is kept for it.
QUEUE_OVER_TIME = """
WITH moments AS (
    SELECT m AS minutes_ago, now() - make_interval(mins => m) AS at
    FROM generate_series(0, $1 - 1) AS m
), candidates AS (
    SELECT created_at, coalesce(started_at, finished_at, 'infinity') AS left_queue
    FROM jobs
    WHERE state = 'PROCESSING' AND started_at IS NULL
       OR coalesce(started_at, finished_at) > now() - make_interval(mins => $1)
)
SELECT moments.minutes_ago, count(c.created_at) AS depth,
       coalesce(extract(epoch FROM max(moments.at - c.created_at)), 0)::float8 AS latency_s
FROM moments
LEFT JOIN candidates AS c ON c.created_at <= moments.at AND c.left_queue > moments.at
GROUP BY moments.minutes_ago
"""
# Run time (first start to outcome) of the jobs finished in the last $1 minutes, by kind.
RUN_TIME_BY_KIND = """
SELECT kind, count(*) AS jobs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
           AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
           AS p95_s
FROM jobs
WHERE finished_at > now() - make_interval(mins => $1) AND started_at IS NOT NULL
GROUP BY kind ORDER BY kind
"""
SCRAPE_STATEMENT_TIMEOUT = "5s"


async def _fetch(pool: asyncpg.Pool, query: str, *args: Any) -> list[asyncpg.Record]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = '{SCRAPE_STATEMENT_TIMEOUT}'")
        return list(await conn.fetch(query, *args))


async def jobs_by_kind_and_state(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
    rows = await _fetch(pool, JOBS_BY_KIND_AND_STATE)
    return {(row["kind"], row["state"]): row["jobs"] for row in rows}


async def oldest_waiting(pool: asyncpg.Pool) -> dict[str, float]:
    """Kind -> seconds the oldest job of that kind has waited for a worker."""
    return {row["kind"]: max(0.0, row["age_s"]) for row in await _fetch(pool, OLDEST_WAITING)}


async def _fetch_as(pool: asyncpg.Pool, row_type: type[Row], query: str, *args: Any) -> list[Row]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = '{SCRAPE_STATEMENT_TIMEOUT}'")
        return await fetch_as(conn, row_type, query, *args)


async def throughput(pool: asyncpg.Pool, minutes: int) -> list[FinishedInMinute]:
    return await _fetch_as(pool, FinishedInMinute, THROUGHPUT, minutes)


async def queue_over_time(pool: asyncpg.Pool, minutes: int) -> list[QueueAtMinute]:
    return await _fetch_as(pool, QueueAtMinute, QUEUE_OVER_TIME, minutes)


async def run_time_by_kind(pool: asyncpg.Pool, minutes: int) -> list[RunTimes]:
    return await _fetch_as(pool, RunTimes, RUN_TIME_BY_KIND, minutes)
