"""What every peer driver shares: the drain and round-trip protocol, run in the peers' venv.

Imports nothing from Brickyard (the peers' virtualenv does not have it). A driver supplies a
``Peer`` and calls ``main``; ``bench`` mode prints one JSON line of figures on stdout.

Drain: the workers are started and given ``START_UP_S`` to be up on an empty queue, then the
jobs are submitted in one bulk call; the rate counts the jobs finished after that call returned,
from that moment to the last one, polled every 10 ms (so neither start-up nor filling counts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

START_UP_S = 2.0
DRAIN_TIMEOUT_S = 120.0
WARM_TRIPS = 20


@dataclass
class Peer:
    setup: Callable[[argparse.Namespace], Awaitable[None]]
    teardown: Callable[[], Awaitable[None]]
    submit_all: Callable[[int], Awaitable[None]]
    done: Callable[[], Awaitable[int]]  # jobs finished since the last reset
    reset: Callable[[], Awaitable[None]]  # forget finished jobs before the next drain
    trip: Callable[[], Awaitable[Any]]  # submit one no-op job and wait for its outcome
    worker: Callable[[argparse.Namespace], Awaitable[None]]
    settings: dict[str, Any]


@contextlib.contextmanager
def workers(args: argparse.Namespace, count: int) -> Iterator[None]:
    argv = [sys.executable, sys.argv[0], "worker", "--pg", args.pg, "--redis", args.redis]
    children = [
        subprocess.Popen([*argv, "--name", args.name], stdout=sys.stderr) for _ in range(count)
    ]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


async def drain(peer: Peer, args: argparse.Namespace, count: int) -> dict[str, Any]:
    await peer.reset()
    with workers(args, count):
        await asyncio.sleep(START_UP_S)
        await peer.submit_all(args.jobs)
        began, before = time.perf_counter(), await peer.done()
        finished, ended = before, began
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while finished < args.jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            finished, ended = await peer.done(), time.perf_counter()
    span = ended - began
    figures: dict[str, Any] = {"per_s": round((finished - before) / span) if span > 0 else 0}
    if finished < args.jobs:
        figures["not_complete"] = args.jobs - finished
    return figures


async def round_trips(peer: Peer, args: argparse.Namespace) -> dict[str, Any]:
    await peer.reset()
    with workers(args, 2):
        await asyncio.sleep(START_UP_S)
        for _ in range(WARM_TRIPS):
            await peer.trip()
        times = []
        for _ in range(args.trips):
            began = time.perf_counter()
            await peer.trip()
            times.append((time.perf_counter() - began) * 1000)
    ordered = sorted(times)
    return {
        "trips": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
    }


async def bench(peer: Peer, args: argparse.Namespace) -> dict[str, Any]:
    await peer.setup(args)
    try:
        figures: dict[str, Any] = {"settings": peer.settings}
        for count in args.workers:
            figures[f"drain_{count}"] = await drain(peer, args, count)
        figures["round_trip"] = await round_trips(peer, args)
        return figures
    finally:
        await peer.teardown()


def main(make_peer: Callable[[], Peer]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bench", "worker"])
    parser.add_argument("--pg", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--name", required=True, help="schema / queue name of this run")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--trips", type=int, default=300)
    parser.add_argument("--workers", type=lambda s: [int(n) for n in s.split(",")], default=[1, 2])
    args = parser.parse_args()
    peer = make_peer()
    if args.mode == "worker":
        asyncio.run(peer.worker(args))
        return
    print(json.dumps(asyncio.run(bench(peer, args))), flush=True)
