"""The state of the whole cluster, read at once from Redis and PostgreSQL.

Read at the moment it is asked for, so it is right whichever process answers: ``brickyard
status``, ``GET /admin/status`` and the gauges of ``GET /metrics`` all come from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis

from shared.jobs import JobState
from shared.jobs.fair_queue import waiting_counts
from shared.observability import store
from shared.observability.heartbeats import WorkerBeat, live_workers
from shared.outages import outage_of


@dataclass(slots=True)
class ClusterStatus:
    queue_name: str
    # Jobs in the Redis queue; arq keeps a running job there until its outcome is written.
    queued: int | None = None
    workers: list[WorkerBeat] | None = None
    jobs: dict[tuple[str, str], int] | None = None
    # Kind -> seconds its oldest job has waited for a worker (queue latency).
    oldest_waiting: dict[str, float] | None = None
    # What could not be read: dependency name -> why.
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def running(self) -> int | None:
        return None if self.workers is None else sum(w.running for w in self.workers)

    @property
    def waiting(self) -> int | None:
        """Jobs queued and not yet taken by a worker: what more workers would start on."""
        if self.queued is None or self.running is None:
            return None
        return max(0, self.queued - self.running)

    @property
    def latency(self) -> float | None:
        """Seconds the oldest waiting job of any kind has waited (0 when none waits)."""
        if self.oldest_waiting is None:
            return None
        return round(max(self.oldest_waiting.values(), default=0.0), 1)

    def jobs_by_state(self) -> dict[str, int] | None:
        if self.jobs is None:
            return None
        totals = {state.value: 0 for state in JobState}
        for (_, state), count in self.jobs.items():
            totals[state] = totals.get(state, 0) + count
        return totals

    def to_json(self) -> dict[str, Any]:
        now = time.time()
        by_kind: dict[str, dict[str, int]] | None = None
        if self.jobs is not None:
            by_kind = {}
            for (kind, state), count in self.jobs.items():
                by_kind.setdefault(kind, {})[state] = count
        return {
            "queue": {
                "name": self.queue_name,
                "depth": self.waiting,
                "queued": self.queued,
                "running": self.running,
                "oldestWaitingSeconds": self.latency,
                "oldestWaitingSecondsByKind": self.oldest_waiting,
            },
            "jobs": {"byState": self.jobs_by_state(), "byKind": by_kind},
            "workers": None
            if self.workers is None
            else [_worker_json(worker, now) for worker in self.workers],
            "unavailable": self.unavailable,
        }


def _worker_json(worker: WorkerBeat, now: float) -> dict[str, Any]:
    return {
        "id": worker.worker_id,
        "host": worker.host,
        "pid": worker.pid,
        "startedAt": _iso(worker.started_at),
        "lastBeat": _iso(worker.last_beat),
        "lastBeatAgeSeconds": round(max(0.0, now - worker.last_beat), 1),
        "runningJobs": worker.running,
        "maxJobs": worker.max_jobs,
        "uptimeSeconds": round(max(0.0, now - worker.started_at)),
        "rssBytes": worker.rss_bytes or None,
        "jobs": [{"token": token, "kind": kind} for token, kind in worker.jobs],
    }


def _iso(unix: float) -> str:
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def cluster_status(pool: asyncpg.Pool, redis: Redis, queue_name: str) -> ClusterStatus:
    """What can be read now; a dependency that is down leaves its part empty, named in
    ``unavailable``, instead of failing the whole answer."""
    status = ClusterStatus(queue_name)
    try:
        # Deferred jobs and those parked at their principal's running limit wait too.
        status.queued = sum(await waiting_counts(redis, queue_name))
        status.workers = await live_workers(redis, queue_name)
    except Exception as exc:
        _note_outage(status, exc)
    try:
        status.jobs = await store.jobs_by_kind_and_state(pool)
        status.oldest_waiting = await store.oldest_waiting(pool)
    except Exception as exc:
        _note_outage(status, exc)
    return status


def _note_outage(status: ClusterStatus, exc: Exception) -> None:
    dependency = outage_of(exc)
    if dependency is None and not isinstance(exc, asyncpg.QueryCanceledError):
        raise exc
    status.unavailable[dependency or "PostgreSQL"] = str(exc) or type(exc).__name__


def format_status(data: dict[str, Any]) -> str:
    """``brickyard status``'s text, from :meth:`ClusterStatus.to_json`, much as ``rq info``."""
    queue, jobs, workers = data["queue"], data["jobs"], data["workers"]
    lines = [
        f"queue {queue['name']}: {_n(queue['depth'])} waiting, {_n(queue['running'])} running, "
        f"oldest waiting {_n(queue.get('oldestWaitingSeconds'))} s",
    ]
    if jobs["byState"] is None:
        lines.append("jobs: unknown")
    else:
        lines.append("jobs: " + ", ".join(f"{s} {n}" for s, n in jobs["byState"].items()))
        for kind, states in sorted(jobs["byKind"].items()):
            lines.append(f"  {kind}: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    if workers is None:
        lines.append("workers: unknown")
    else:
        lines.append(f"{len(workers)} worker{'' if len(workers) == 1 else 's'}")
        for w in workers:
            lines.append(
                f"  {w['id']}  host {w['host']} pid {w['pid']}  "
                f"{w['runningJobs']}/{w['maxJobs']} jobs  started {w['startedAt']}  "
                f"last beat {w['lastBeatAgeSeconds']:.1f} s ago"
            )
    for dependency, error in sorted(data["unavailable"].items()):
        lines.append(f"{dependency} unavailable: {error}")
    return "\n".join(lines)


def _n(value: float | None) -> str:
    return "?" if value is None else str(value)
