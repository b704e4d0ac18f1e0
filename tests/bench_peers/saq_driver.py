"""saq on Redis beside Brickyard: ``python saq_driver.py bench --pg URL --redis URL --name N``.

Configured as saq's README has it: a Redis queue, a worker at its default concurrency (10),
results awaited with ``Job.refresh(until_complete=...)`` (pub/sub, re-read every 50 ms
against its subscription race).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from peer_common import Peer, main
from saq import Queue, Worker

CONCURRENCY = 10
RECHECK_S = 0.05
TRIP_TIMEOUT_S = 10.0


async def noop(ctx: dict[str, Any]) -> None:
    return None


def make_peer() -> Peer:
    state: dict[str, Any] = {}

    def queue(args: argparse.Namespace) -> Queue:
        return Queue.from_url(args.redis, name=args.name)

    async def setup(args: argparse.Namespace) -> None:
        state["queue"] = queue(args)
        await state["queue"].connect()
        state["name"] = args.name

    async def clean() -> None:
        redis = state["queue"].redis
        keys = [key async for key in redis.scan_iter(match=f"*{state['name']}*", count=1000)]
        for start in range(0, len(keys), 1000):
            await redis.delete(*keys[start : start + 1000])

    async def teardown() -> None:
        await clean()
        await state["queue"].disconnect()

    async def submit_all(count: int) -> None:
        state["submitted"] = count
        # saq has no bulk enqueue: 200 at a time, as the Brickyard and arq figures submit.
        for start in range(0, count, 200):
            await asyncio.gather(
                *(state["queue"].enqueue("noop") for _ in range(min(200, count - start)))
            )

    async def done() -> int:
        return int(state["submitted"] - await state["queue"].count("incomplete"))

    async def reset() -> None:
        await clean()
        state["submitted"] = 0

    async def trip() -> Any:
        job = await state["queue"].enqueue("noop")
        # refresh(until_complete) reads the job, then subscribes to its channel: a job that
        # finishes in between is never announced to it, and it raises after its whole wait
        # (10 s, which ended the full bench run). Re-reading every RECHECK_S bounds that race.
        deadline = asyncio.get_running_loop().time() + TRIP_TIMEOUT_S
        while True:
            with contextlib.suppress(TimeoutError):
                await job.refresh(until_complete=RECHECK_S)
            if job.completed or asyncio.get_running_loop().time() > deadline:
                return job.result

    async def worker(args: argparse.Namespace) -> None:
        await Worker(queue(args), functions=[noop], concurrency=CONCURRENCY).start()

    return Peer(
        setup, teardown, submit_all, done, reset, trip, worker, {"concurrency": CONCURRENCY}
    )


if __name__ == "__main__":
    main(make_peer)
