"""PostgreSQL is the source of truth, Redis the delivery path: the reconciler keeps them agreed.

Every pass re-enqueues each accepted, unfinished job that no queue holds and no live lease
covers: Redis restarted empty, a gateway died between recording a job and enqueueing it, or a
job was dropped any other way. One reconciler runs at a time per schema (an advisory lock), and
a job is re-enqueued under its own token, so the queue never holds it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog
from arq.connections import ArqRedis

from shared.jobs import store
from shared.jobs.fair_queue import missing
from shared.jobs.queue import QueuedJob, enqueue
from shared.outages import backoff_delays, is_outage

log = structlog.get_logger(__name__)

# A job younger than this may still be on its way from the gateway to the queue.
GRACE_S = 5.0
BATCH_LIMIT = 5000

# Work a job kind leaves behind once its jobs end (staged batches), swept on every pass.
Sweeper = Callable[[asyncpg.Connection, float], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Pass:
    ran: bool
    requeued: list[str]
    swept: int = 0


async def reconcile_once(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    queue_name: str,
    sweepers: tuple[Sweeper, ...] = (),
    grace_s: float = GRACE_S,
) -> Pass:
    async with pool.acquire() as conn, conn.transaction():
        if not await store.try_reconciler_lock(conn):
            return Pass(ran=False, requeued=[])
        candidates = await store.unfinished_unleased(conn, grace_s, BATCH_LIMIT)
        # Queued, deferred, parked at its principal's limit or claimed: Redis holds it.
        lost = await missing(redis, queue_name, [token for token, _, _ in candidates])
        if lost:
            # A worker may have claimed, even finished, a job between the two reads: under
            # read committed this second look sees what it did.
            lost &= await store.still_unleased(conn, sorted(lost))
        # What the queue charged a job is gone with it: each comes back at the cost of one.
        requeued = [
            QueuedJob(kind, token, principal_id)
            for token, kind, principal_id in candidates
            if token in lost
        ]
        if requeued:
            await enqueue(redis, queue_name, requeued, running_limit=None)
        swept = 0
        for sweep in sweepers:
            swept += await sweep(conn, grace_s)
    if requeued:
        log.warning("re-enqueued jobs missing from the queue", count=len(requeued))
    return Pass(ran=True, requeued=[job.token for job in requeued], swept=swept)


async def reconcile_forever(
    pool: asyncpg.Pool,
    redis: ArqRedis,
    queue_name: str,
    interval_s: float,
    sweepers: tuple[Sweeper, ...] = (),
) -> None:
    """One pass every ``interval_s``; an outage only delays the next pass."""
    delays = backoff_delays()
    while True:
        try:
            await reconcile_once(pool, redis, queue_name, sweepers)
            delays = backoff_delays()
            await asyncio.sleep(interval_s)
        except Exception as exc:
            if not is_outage(exc):
                log.exception("reconciler pass failed")
            await asyncio.sleep(max(next(delays), interval_s / 2))
