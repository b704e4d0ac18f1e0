"""Where ER ingest time goes, for ``make bench``: the physical floor and the cost per item.

- The floor: a raw ``COPY`` of the rows a batch stores into a plain table of the same columns
  with no triggers, generated columns or indexes beyond the primary key.
- CPU per item, split between the gateway processes, the worker processes and the PostgreSQL
  backends serving them (found by the client ports of those processes' connections), read from
  ``/proc/<pid>/stat``: the machine is shared, so whole-machine figures would count others.
- Statements per batch: a synchronous batch run in this process over a pool whose connections
  log every query, and the rows each item writes, from the schema's table statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlparse

import asyncpg
import orjson
import psutil

from shared.auth import Principal
from shared.db import _init_connection, _keep_session, connect_kwargs
from shared.er.batch_kinds import KINDS
from shared.er.batches import Submission, run_batch_here
from shared.services import Services
from shared.settings import Settings

FLOOR_TABLE = "er_copy_floor"
TICKS = os.sysconf("SC_CLK_TCK")
PG_PORT_QUERY = "SELECT pid, client_port FROM pg_stat_activity WHERE client_port = ANY($1::int[])"
ROWS_WRITTEN = """
SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS written
FROM pg_stat_user_tables WHERE schemaname = current_schema()
"""


async def plain_copy(
    settings: Settings, rows: Sequence[tuple[Any, ...]], columns: list[str]
) -> float:
    """Seconds to COPY ``rows`` into a fresh plain table shaped like ``er_relationships``."""
    conn = await asyncpg.connect(**connect_kwargs(settings))
    try:
        await conn.execute(
            f"DROP TABLE IF EXISTS {FLOOR_TABLE};"
            f"CREATE TABLE {FLOOR_TABLE} (LIKE er_relationships INCLUDING DEFAULTS,"
            " PRIMARY KEY (collection_id, id))"
        )
        began = time.perf_counter()
        await conn.copy_records_to_table(FLOOR_TABLE, records=rows, columns=columns)
        return time.perf_counter() - began
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        await conn.close()


def _cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _with_children(pids: Sequence[int]) -> list[int]:
    found = list(pids)
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found += [child.pid for child in psutil.Process(pid).children(recursive=True)]
    return found


def _client_ports(pids: Sequence[int], pg_port: int) -> list[int]:
    ports = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            for sock in psutil.Process(pid).net_connections(kind="tcp"):
                if sock.raddr and sock.raddr.port == pg_port:
                    ports.append(sock.laddr.port)
    return ports


class CpuSplit:
    """CPU seconds of each role (gateway, workers, PostgreSQL backends of both) over a run."""

    def __init__(self, settings: Settings, gateways: Sequence[int], workers: Sequence[int]) -> None:
        self.settings = settings
        self.roles = {"gateway": _with_children(gateways), "workers": _with_children(workers)}
        self.pg_port = urlparse(settings.database_url).port or 5432
        self.seconds: dict[str, float] = {}

    async def _backends(self) -> list[int]:
        ports = [p for pids in self.roles.values() for p in _client_ports(pids, self.pg_port)]
        conn = await asyncpg.connect(**connect_kwargs(self.settings))
        try:
            return [row["pid"] for row in await conn.fetch(PG_PORT_QUERY, ports)]
        finally:
            await conn.close()

    async def _read(self) -> dict[str, dict[int, float]]:
        roles = {**self.roles, "postgres": await self._backends()}
        return {role: {pid: _cpu_s(pid) for pid in pids} for role, pids in roles.items()}

    @contextlib.asynccontextmanager
    async def measure(self) -> AsyncIterator[CpuSplit]:
        start = await self._read()
        yield self
        end = await self._read()
        for role, now in end.items():
            before = start.get(role, {})
            # A backend opened during the run counts from zero.
            self.seconds[role] = sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())

    def per_item_us(self, items: int) -> dict[str, float]:
        return {
            f"{role}_cpu_us_per_item": round(s * 1e6 / items, 1) for role, s in self.seconds.items()
        }


async def _rows_written(conn: asyncpg.Connection) -> Counter[str]:
    return Counter({row["relname"]: row["written"] for row in await conn.fetch(ROWS_WRITTEN)})


async def statements_per_sync_batch(
    services: Services, principal: Principal, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """One synchronous batch of ``items`` run in this process as the gateway runs it, over a pool
    whose connections log every query: the statements it sends and the rows each item writes."""
    sent: Counter[str] = Counter()

    def logged(record: Any) -> None:
        sent[" ".join(record.query.split())[:60]] += 1

    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)  # the product's codecs
        conn.add_query_logger(logged)

    settings = services.settings
    pool = await asyncpg.create_pool(
        **connect_kwargs(settings), min_size=1, max_size=2, init=init, reset=_keep_session
    )
    try:
        counting = Services.build(settings, pool, services.redis)
        batch = Submission(
            principal, KINDS["relationship"], "plant", items[:1], f"warm-{uuid.uuid4()}", "bench"
        )
        await run_batch_here(counting, batch)  # type schemas cached, statements prepared
        async with pool.acquire() as conn:
            await _pg_stats_flush(conn)
            before = await _rows_written(conn)
        batch = Submission(
            principal, KINDS["relationship"], "plant", items, str(uuid.uuid4()), "bench"
        )
        sent.clear()
        await run_batch_here(counting, batch)
        batch_sent = dict(sent.most_common())
        async with pool.acquire() as conn:
            await _pg_stats_flush(conn)
            written = await _rows_written(conn) - before
    finally:
        await pool.close()
    count = len(items)
    return {
        "statements_per_batch": sum(batch_sent.values()),
        "statements": batch_sent,
        "rows_written_per_item": {t: round(n / count, 2) for t, n in written.most_common()},
    }


async def _pg_stats_flush(conn: asyncpg.Connection) -> None:
    """Table statistics reach pg_stat_user_tables when a backend reports them: ask for a fresh
    snapshot (PostgreSQL 15 keeps them in shared memory, flushed at most once a second)."""
    await asyncio.sleep(1.1)
    await conn.execute("SELECT pg_stat_clear_snapshot()")


def json_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Stored rows with their JSON columns (derived, body) as text, as COPY takes them."""
    return [(*r[:6], orjson.dumps(r[6]).decode(), orjson.dumps(r[7]).decode(), r[8]) for r in rows]
