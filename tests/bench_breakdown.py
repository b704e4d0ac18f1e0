"""Where a drain's time goes, per job: statements, Redis commands, CPU by process role.

Sampled around a drain (``make bench``'s job scenarios): PostgreSQL transactions from
``pg_stat_database`` (every statement outside a transaction block is one), Redis commands from
``INFO commandstats``, CPU from ``/proc`` for the worker processes, this process (the gateway's
part: submitting and polling), the PostgreSQL backends serving the workers (found by their
client ports) and Redis (``INFO cpu``). The servers are shared, so statements and Redis figures
are server-wide: another client's work in the same window counts too, which is why they are per
job of a drain of thousands, and labelled approximate.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
XACTS_SQL = """
SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()
"""
BACKENDS_SQL = "SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])"
# Flushes this backend's pending statistics, so the figure read next includes them.
FLUSH_SQL = "SELECT pg_stat_force_next_flush()"


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def local_ports(pids: Iterable[int]) -> list[int]:
    """The local TCP ports of the sockets ``pids`` hold (their PostgreSQL connections among them)."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                columns = line.split()
                if columns[9] in inodes:
                    ports.append(int(columns[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass
class Sample:
    cpu: dict[str, float] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    xacts: int = 0


async def redis_figures(redis: Redis) -> tuple[dict[str, int], float]:
    stats = await redis.info("commandstats")
    commands = {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}
    cpu = await redis.info("cpu")
    return commands, float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


class Breakdown:
    """Samples before and after a drain of ``jobs`` jobs; ``figures()`` gives the per-job view."""

    def __init__(self, pool: asyncpg.Pool, redis: Redis, jobs: int) -> None:
        self._pool, self._redis, self._jobs = pool, redis, jobs
        self._before = Sample()
        self._after = Sample()
        self._postgres: dict[int, float] = {}

    async def _xacts(self) -> int:
        async with self._pool.acquire() as conn:
            with contextlib.suppress(asyncpg.UndefinedFunctionError):  # before PostgreSQL 15
                await conn.execute(FLUSH_SQL)
            return int(await conn.fetchval(XACTS_SQL))

    async def _cpu(self, sample: Sample, workers: Iterable[int]) -> None:
        commands, redis_cpu = await redis_figures(self._redis)
        sample.commands, sample.cpu["redis"] = commands, redis_cpu
        pids = list(workers)
        sample.cpu["workers"] = sum(cpu_s(pid) for pid in pids)
        sample.cpu["gateway (bench process)"] = cpu_s(os.getpid())
        if not self._postgres:
            self._postgres = {pid: cpu_s(pid) for pid in postgres_pids()}
            sample.cpu["postgresql (workers' backends)"] = 0.0
            return
        # The workers' backends; one that started during the drain counts from zero.
        async with self._pool.acquire() as conn:
            backends = await conn.fetch(BACKENDS_SQL, local_ports(pids))
        sample.cpu["postgresql (workers' backends)"] = sum(
            cpu_s(row["pid"]) - self._postgres.get(row["pid"], 0.0) for row in backends
        )

    async def before(self, workers: Iterable[int]) -> None:
        self._before.xacts = await self._xacts()
        await self._cpu(self._before, workers)

    async def workers_done(self, workers: Iterable[int]) -> None:
        """Call while the workers (and their backends) still live, once the drain is over."""
        await self._cpu(self._after, workers)

    async def after(self) -> None:
        """Call once the workers have stopped: their backends have flushed their statistics."""
        self._after.xacts = await self._xacts()

    def figures(self) -> dict[str, Any]:
        jobs = self._jobs
        before, after = self._before, self._after
        cpu_ms = {
            role: round((after.cpu[role] - before.cpu[role]) * 1000 / jobs, 3) for role in after.cpu
        }
        calls = {
            name: after.commands[name] - before.commands.get(name, 0) for name in after.commands
        }
        top = sorted(((n, c) for n, c in calls.items() if c), key=lambda nc: -nc[1])[:6]
        return {
            "pg_statements_per_job": round((after.xacts - before.xacts) / jobs, 3),
            "redis_commands_per_job": round(sum(calls.values()) / jobs, 3),
            "redis_commands": {name: round(count / jobs, 3) for name, count in top},
            "cpu_ms_per_job": cpu_ms,
        }


def describe(figures: dict[str, Any]) -> str:
    cpu = ", ".join(f"{role} {ms}" for role, ms in figures["cpu_ms_per_job"].items())
    commands = ", ".join(f"{name} {n}" for name, n in figures["redis_commands"].items())
    return (
        f"per job (server-wide, approximate): {figures['pg_statements_per_job']} PostgreSQL "
        f"statements, {figures['redis_commands_per_job']} Redis commands ({commands}); "
        f"CPU ms: {cpu}"
    )
