"""Worker heartbeats: who is alive, where, since when, and how busy.

Each worker writes a Redis hash of its own every ``BEAT_INTERVAL_S`` with a ``BEAT_TTL_S``
expiry, and lists its id in one sorted set per queue. A worker that dies stops beating and its
hash expires on its own; readers drop the ids whose hash is gone. Expiry is Redis's, so hosts
whose clocks disagree still agree on who is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import time
from collections.abc import Sized
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis

from shared.observability.metrics import MetricsBuffer, metrics_key
from shared.outages import is_outage

log = structlog.get_logger(__name__)

BEAT_INTERVAL_S = 2.0
BEAT_TTL_S = 10.0
FAREWELL_TIMEOUT_S = 1.0
JOBS_IN_A_BEAT = 20  # a worker with more running jobs lists its first 20 (its count says all)


def workers_key(queue_name: str) -> str:
    return f"{queue_name}:workers"


def worker_key(queue_name: str, worker_id: str) -> str:
    return f"{queue_name}:worker:{worker_id}"


@dataclass(frozen=True, slots=True)
class WorkerBeat:
    worker_id: str
    host: str
    pid: int
    started_at: float  # Unix time
    last_beat: float
    running: int
    max_jobs: int
    rss_bytes: int = 0  # 0: unknown (a worker of an older release, or no /proc)
    jobs: tuple[tuple[str, str], ...] = ()  # (token, kind) of the jobs it is running

    def to_redis(self) -> dict[str, str]:
        values = {name: str(getattr(self, name)) for name in self.__slots__}
        return {**values, "jobs": json.dumps(self.jobs)}

    @classmethod
    def from_redis(cls, raw: dict[Any, Any]) -> WorkerBeat:
        values = {_text(k): _text(v) for k, v in raw.items()}
        return cls(
            worker_id=values["worker_id"],
            host=values["host"],
            pid=int(values["pid"]),
            started_at=float(values["started_at"]),
            last_beat=float(values["last_beat"]),
            running=int(values["running"]),
            max_jobs=int(values["max_jobs"]),
            rss_bytes=int(values.get("rss_bytes", 0)),
            jobs=tuple((str(t), str(k)) for t, k in json.loads(values.get("jobs", "[]"))),
        )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def beat(redis: Redis, queue_name: str, worker: WorkerBeat) -> None:
    key = worker_key(queue_name, worker.worker_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=worker.to_redis())
        pipe.pexpire(key, int(BEAT_TTL_S * 1000))
        pipe.zadd(workers_key(queue_name), {worker.worker_id: worker.last_beat})
        await pipe.execute()


async def live_workers(redis: Redis, queue_name: str) -> list[WorkerBeat]:
    """The workers whose heartbeat has not expired, oldest first."""
    ids = [_text(i) for i in await redis.zrange(workers_key(queue_name), 0, -1)]
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for worker_id in ids:
            pipe.hgetall(worker_key(queue_name, worker_id))
        beats = await pipe.execute()
    gone = [worker_id for worker_id, raw in zip(ids, beats, strict=True) if not raw]
    if gone:
        await redis.zrem(workers_key(queue_name), *gone)
    alive = [WorkerBeat.from_redis(raw) for raw in beats if raw]
    return sorted(alive, key=lambda w: (w.started_at, w.worker_id))


async def forget(redis: Redis, queue_name: str, worker_id: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(worker_key(queue_name, worker_id))
        pipe.zrem(workers_key(queue_name), worker_id)
        await pipe.execute()


def resident_bytes() -> int:
    """This process's resident set size now (Linux), else its peak (ru_maxrss, KiB on Linux)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class BeatingWorker(Protocol):
    """What a heartbeat reads from the worker (``worker.prompt.PromptWorker``)."""

    worker_id: str
    queue_name: str
    max_jobs: int

    @property
    def tasks(self) -> Sized: ...

    def current_jobs(self) -> dict[str, str]:
        """Token -> kind of the jobs whose handler is running."""
        ...

    metrics: MetricsBuffer

    @property
    def pool(self) -> Redis: ...


class Heartbeat:
    """Beats for one worker, and flushes its metrics with each beat."""

    def __init__(self, worker: BeatingWorker) -> None:
        self.worker = worker
        self.host = socket.gethostname()
        self.started_at = time.time()

    def current(self) -> WorkerBeat:
        w = self.worker
        jobs = tuple(sorted(w.current_jobs().items()))[:JOBS_IN_A_BEAT]
        return WorkerBeat(
            w.worker_id, self.host, os.getpid(), self.started_at, time.time(), len(w.tasks),
            w.max_jobs, resident_bytes(), jobs,
        )  # fmt: skip

    async def beat_once(self) -> None:
        redis, queue_name = self.worker.pool, self.worker.queue_name
        await beat(redis, queue_name, self.current())
        await self.worker.metrics.flush(redis, metrics_key(queue_name))

    async def beat_forever(self) -> None:
        # Never ends by itself: a worker that stopped beating would look dead while it works.
        while True:
            try:
                await self.beat_once()
            except Exception as exc:
                if is_outage(exc):
                    log.warning("could not send the heartbeat", error=repr(exc))
                else:
                    log.exception("could not send the heartbeat")
            await asyncio.sleep(BEAT_INTERVAL_S)

    async def farewell(self) -> None:
        """A worker that stops cleanly leaves at once and keeps its last counts; best effort."""
        redis, queue_name = self.worker.pool, self.worker.queue_name
        with contextlib.suppress(Exception):
            async with asyncio.timeout(FAREWELL_TIMEOUT_S):
                await self.worker.metrics.flush(redis, metrics_key(queue_name))
                await forget(redis, queue_name, self.worker.worker_id)
