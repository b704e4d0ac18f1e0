"""ER ingest figures for ``make bench``, each beside an anchor measured in the same run.

The system runs as ``brickyard run`` has it: a ``brickyard gateway`` process and ``brickyard
worker`` processes, against Brick 1.4 schemas synced by the schema service; synchronous batches
at concurrency 16 are measured again with two gateway processes on one port
(``BRICKYARD_GATEWAY_PROCESSES=2``). This process is only
the client (request bodies encoded once, up front). Anchors, in the same database and run:

- raw ``COPY`` of the same 10000 relationship rows (bodies and derived fields as stored) into
  a plain table of the same columns with no triggers, generated columns or indexes beyond the
  primary key (the physical floor; ratios are to it), and into the product's own table;
- one raw 100-row ``INSERT ... SELECT FROM unnest ... ON CONFLICT DO UPDATE`` of the same rows,
  at concurrency 1 and 16, for synchronous batches.

Where the time goes (CPU per item of the gateway, the workers and their PostgreSQL backends,
statements per batch, rows written per item) is measured by ``tests.bench_er_costs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import orjson
import psutil

from shared.auth import SCOPES, Principal
from shared.db import connect_kwargs
from shared.er.store.upserts import UPSERT_RELATIONSHIPS
from shared.services import Services
from shared.settings import Settings
from tests import bench_jobs  # noqa: F401  (the job-core scenarios are registered, and run, first)
from tests.bench_er_costs import CpuSplit, json_rows, plain_copy, statements_per_sync_batch
from tests.bench_support import (
    brickyard_env,
    brickyard_workers,
    percentile,
    python_processes,
    scenario,
    stop,
)

NS, SIDE = "ERBENCH", 50  # 50 AHUs feeding 50 fans
BIG = 10_000
SMALL = 100
WORKER_COUNTS = (1, 2, 4)
ASYNC_RUNS = 3
SYNC_CALLS = 300
CONCURRENCY = 16
SYNC_CALLS_CONCURRENT = 1600
SYNC_LEVELS = ((1, SYNC_CALLS), (CONCURRENCY, SYNC_CALLS_CONCURRENT))
RELATIONSHIP = f"{NS}__feeds_Equipment_Equipment"
# Gateway processes: one, as `brickyard run` starts by default; concurrency 16 is measured again
# with two, as BRICKYARD_GATEWAY_PROCESSES=2 runs them (one process is one event loop on one core).
GATEWAYS = 1
MORE_GATEWAYS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    """The gateway over HTTP; bodies are sent as bytes encoded beforehand."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str, pids: list[int]) -> None:
        self.http, self.base, self.pids = http, base, pids
        self.auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        async with self.http.request(
            method, self.base + path, data=data, headers={**self.auth, **headers}
        ) as response:
            answer = orjson.loads(await response.read())
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {answer}")
            return answer

    async def finish(self, job_token: str, step_s: float = 0.005) -> Any:
        """Poll a job as a client would until it is no longer running."""
        while True:
            async with self.http.get(
                f"{self.base}/async/get/{job_token}", headers=self.auth
            ) as response:
                if response.status != 202:
                    return orjson.loads(await response.read())
            await asyncio.sleep(step_s)


def listening(pid: int, port: int) -> bool:
    with contextlib.suppress(psutil.Error):
        for sock in psutil.Process(pid).net_connections(kind="tcp"):
            if sock.status == psutil.CONN_LISTEN and sock.laddr.port == port:
                return True
    return False


@contextlib.asynccontextmanager
async def gateway(
    settings: Settings, token: str, processes: int = GATEWAYS
) -> AsyncIterator[Client]:
    """``processes`` gateway processes on one port, as ``BRICKYARD_GATEWAY_PROCESSES`` has
    ``brickyard run`` start them, each listening before this yields."""
    port = free_port()
    env = brickyard_env(
        settings.replace(port=port, log_level="warning", gateway_processes=processes)
    )
    async with python_processes(processes, "shared.cli", "gateway", env=env) as children:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
            deadline = time.monotonic() + 30
            while not all(listening(child.pid, port) for child in children):
                if time.monotonic() > deadline or any(c.returncode is not None for c in children):
                    raise RuntimeError("the gateway did not start")
                await asyncio.sleep(0.1)
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RuntimeError("the gateway did not become ready")
                await asyncio.sleep(0.1)
            yield Client(http, base, token, [child.pid for child in children])


def relationships(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{prefix}-{k:05}",
            "sourceEntityId": f"ahu-{k % SIDE}",
            "destinationEntityId": f"fan-{k // SIDE % SIDE}",
            "relationshipName": "feeds",
            "relationshipType": RELATIONSHIP,
        }
        for k in range(count)
    ]


async def prepare(client: Client) -> None:
    """A schema collection synced to Brick 1.4, an ER collection, the equipment to relate."""
    await client.call(
        "POST",
        "/apollo/schema/schemacollections",
        {"schemaCollectionId": "ErBench", "release": "1.4"},
    )
    for schema_type in ("entitytypes", "relationshiptypes"):
        await client.call(
            "POST",
            "/apollo/schema/sync",
            {"schemaType": schema_type, "schemaCollectionId": "ErBench"},
        )
    await client.call(
        "POST",
        "/apollo/er/ercollections",
        {"erCollectionId": "plant", "schemaCollectionId": "ErBench"},
    )
    equipment = [
        {"id": f"{kind.lower()}-{i}", "entityType": f"{NS}__{kind}", "entityName": f"{kind} {i}"}
        for kind in ("AHU", "Fan")
        for i in range(SIDE)
    ]
    accepted = await client.call(
        "POST", "/apollo/er/entities", equipment, ercollectionid="plant", **{"async": "true"}
    )
    await client.finish(accepted["data"]["token"])


class RssWatch:
    """The largest resident set of any worker process while it runs."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            for process in self.processes:
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, process.memory_info().rss)
            await asyncio.sleep(0.01)

    def __enter__(self) -> RssWatch:
        self._task = asyncio.ensure_future(self._watch())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


class CpuWatch:
    """What bounds a run: how busy the whole machine was, and the cores PostgreSQL used."""

    @staticmethod
    def _read() -> tuple[float, float, dict[int, float]]:
        times = psutil.cpu_times()
        idle = times.idle + getattr(times, "iowait", 0.0)
        postgres: dict[int, float] = {}
        for process in psutil.process_iter(["name"]):
            if (process.info["name"] or "").startswith("postgres"):
                with contextlib.suppress(psutil.Error):
                    postgres[process.pid] = sum(process.cpu_times()[:2])
        return sum(times) - idle, sum(times), postgres

    def __enter__(self) -> CpuWatch:
        self.began, self.start = time.perf_counter(), self._read()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.perf_counter() - self.began
        busy, total, postgres = self._read()
        busy, total = busy - self.start[0], total - self.start[1]
        self.machine_busy_pct = 100 * busy / total if total else 0.0
        # Per process: a backend that exited during the run (a pool closing) would otherwise
        # take its whole past off the sum, which went negative.
        before = self.start[2]
        used = sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres.items())
        self.postgres_cores = used / wall


async def async_batch(
    client: Client, prefix: str, pids: list[int], split: CpuSplit | None = None
) -> dict[str, float]:
    body = orjson.dumps(relationships(prefix, BIG))
    if split is None:
        return await _async_batch(client, prefix, body, pids)
    async with split.measure():
        figures = await _async_batch(client, prefix, body, pids)
    return figures | split.per_item_us(BIG)


async def _async_batch(
    client: Client, prefix: str, body: bytes, pids: list[int]
) -> dict[str, float]:
    with RssWatch(pids) as rss, CpuWatch() as cpu:
        began = time.perf_counter()
        accepted = await client.call(
            "POST", "/apollo/er/relationships", body, ercollectionid="plant", **{"async": "true"}
        )
        accepted_s = time.perf_counter() - began
        result = await client.finish(accepted["data"]["token"])
        total_s = time.perf_counter() - began
    if len(result["responses"]["success"]) != BIG:
        raise RuntimeError(f"batch {prefix}: {result['message']}")
    return {
        "accept_ms": accepted_s * 1000,
        "total_s": total_s,
        "per_s": BIG / total_s,
        "worker_rss_mb": rss.peak / 2**20,
        "machine_busy_pct": cpu.machine_busy_pct,
        "postgres_cores": cpu.postgres_cores,
    }


def stored_rows(prefix: str, count: int) -> list[tuple[Any, ...]]:
    """The rows a batch of ``relationships(prefix, count)`` stores, as stored."""
    rows = []
    for item in relationships(prefix, count):
        derived = {
            "brickRelationshipType": RELATIONSHIP,
            "brickSourceEntityType": f"{NS}__AHU",
            "brickDestinationEntityType": f"{NS}__Fan",
        }
        rows.append(
            (
                "plant", item["id"], RELATIONSHIP, item["sourceEntityId"], "plant",
                item["destinationEntityId"], derived, {**item, **derived}, "copy",
            )
        )  # fmt: skip
    return rows


COPY_COLUMNS = [
    "collection_id", "id", "relationship_type", "source_entity_id", "destination_collection_id",
    "destination_entity_id", "derived", "body", "transaction_id",
]  # fmt: skip


async def raw_copy(settings: Settings, prefix: str) -> float:
    """COPY over a connection with asyncpg's own (binary) codecs, JSON given as text."""
    rows = json_rows(stored_rows(prefix, BIG))
    conn = await asyncpg.connect(**connect_kwargs(settings))
    try:
        began = time.perf_counter()
        await conn.copy_records_to_table("er_relationships", records=rows, columns=COPY_COLUMNS)
        return time.perf_counter() - began
    finally:
        await conn.close()


async def floor_copy(settings: Settings, prefix: str) -> float:
    """The physical floor: the same COPY into a plain table (no triggers, PK only)."""
    return await plain_copy(settings, json_rows(stored_rows(prefix, BIG)), COPY_COLUMNS)


async def raw_upsert(services: Services, rows: list[tuple[Any, ...]]) -> float:
    columns = list(zip(*rows, strict=True))
    began = time.perf_counter()
    await services.pool.fetch(
        UPSERT_RELATIONSHIPS,
        "plant", list(columns[1]), list(columns[2]), list(columns[3]), list(columns[4]),
        list(columns[5]), [orjson.dumps(d).decode() for d in columns[6]],
        [orjson.dumps(b).decode() for b in columns[7]], "raw",
    )  # fmt: skip
    return (time.perf_counter() - began) * 1000


async def at_concurrency(
    concurrency: int, calls: int, one: Callable[[int], Awaitable[float]]
) -> tuple[list[float], float]:
    """Latencies (ms) of ``calls`` calls made by ``concurrency`` callers, and the wall time."""
    latencies: list[float] = []
    next_call = iter(range(calls))

    async def caller() -> None:
        for index in next_call:
            latencies.append(await one(index))

    began = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began


def summary(latencies: list[float], wall_s: float, items: int) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "items_per_s": round(len(latencies) * items / wall_s),
    }


async def sync_figures(
    services: Services,
    client: Client,
    levels: tuple[tuple[int, int], ...] = SYNC_LEVELS,
    tag: str = "",
    floor_rows_per_s: float = 0.0,
    worker_pids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """``levels``: (concurrency, calls) pairs; ``tag`` keeps a second round's ids new;
    ``floor_rows_per_s``: the plain COPY's rate, the ratios' denominator."""

    def sync_call(concurrency: int) -> Callable[[int], Awaitable[float]]:
        async def one(index: int) -> float:
            body = orjson.dumps(relationships(f"s{tag}{concurrency}-{index}", SMALL))
            began = time.perf_counter()
            answer = await client.call(
                "POST", "/apollo/er/relationships", body, ercollectionid="plant"
            )
            elapsed = (time.perf_counter() - began) * 1000
            if answer["data"]["responses"]["failure"]:
                raise RuntimeError(f"sync batch failed items: {answer['status']}")
            return elapsed

        return one

    def raw_call(concurrency: int) -> Callable[[int], Awaitable[float]]:
        async def one(index: int) -> float:
            rows = stored_rows(f"raw{tag}{concurrency}-{index}", SMALL)
            return await raw_upsert(services, rows)

        return one

    figures: dict[str, Any] = {}
    await at_concurrency(4, 40, sync_call(0))  # warm connections and caches
    for concurrency, calls in levels:
        split = CpuSplit(services.settings, client.pids, worker_pids)
        async with split.measure():
            ours = summary(*await at_concurrency(concurrency, calls, sync_call(concurrency)), SMALL)
        raw = summary(*await at_concurrency(concurrency, calls, raw_call(concurrency)), SMALL)
        ratios = {
            "ratio_to_raw_unnest": round(ours["items_per_s"] / raw["items_per_s"], 3),
            "ratio_to_plain_copy": round(ours["items_per_s"] / floor_rows_per_s, 3)
            if floor_rows_per_s
            else None,
        }
        cpu = split.per_item_us(calls * SMALL)
        figures[f"sync_{SMALL}_concurrency_{concurrency}"] = {
            **ours,
            **{f"raw_unnest_{k}": v for k, v in raw.items()},
            **ratios,
            **cpu,
        }
        print(
            f"  sync {SMALL} items, concurrency {concurrency}: p50 {ours['p50_ms']} ms, p99 "
            f"{ours['p99_ms']} ms, {ours['items_per_s']} items/s; raw unnest upsert p50 "
            f"{raw['p50_ms']} ms, p99 {raw['p99_ms']} ms, {raw['items_per_s']} rows/s; "
            f"{ratios}; CPU per item {cpu}",
            file=sys.stderr,
            flush=True,
        )
    return figures


def median_of(runs: list[dict[str, float]], key: str, digits: int = 1) -> float:
    return round(statistics.median(run[key] for run in runs), digits)


async def scaling(settings: Settings, client: Client) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for count in WORKER_COUNTS:
        async with brickyard_workers(settings, count) as children:
            await asyncio.sleep(1.5)  # every process up and listening
            pids = [child.pid for child in children]
            # New processes compile their validators on their first chunks: warm them first, as
            # the 2-worker figure above is.
            await async_batch(client, f"w{count}-warm", pids)
            runs = [await async_batch(client, f"w{count}-{run}", pids) for run in range(2)]
        figures[f"{count}_worker_processes_items_per_s"] = median_of(runs, "per_s", 0)
        figures[f"{count}_worker_processes_machine_busy_pct"] = median_of(runs, "machine_busy_pct")
        figures[f"{count}_worker_processes_postgres_cores"] = median_of(runs, "postgres_cores", 2)
        print(
            f"  {count} worker process(es): {[round(r['per_s']) for r in runs]} items/s; machine "
            f"busy {[round(r['machine_busy_pct']) for r in runs]}%, PostgreSQL "
            f"{[round(r['postgres_cores'], 2) for r in runs]} cores",
            file=sys.stderr,
            flush=True,
        )
    return figures


@scenario("ER: batch ingest on Brick 1.4 schemas, beside raw COPY and unnest upserts")
async def er_ingest(services: Services, principal: Principal) -> dict[str, Any]:
    settings = services.settings
    token = await services.auth.create_token("bench", sorted(SCOPES))
    figures: dict[str, Any] = {}
    async with gateway(settings, token) as client:
        async with brickyard_workers(settings, 2) as children:
            await prepare(client)
            pids = [child.pid for child in children]
            await async_batch(client, "warm", pids)
            runs, copies, floors = [], [], []
            for run in range(ASYNC_RUNS):
                split = CpuSplit(settings, client.pids, pids)
                runs.append(await async_batch(client, f"a{run}", pids, split))
                copies.append(await raw_copy(settings, f"copy{run}"))
                floors.append(await floor_copy(settings, f"floor{run}"))
            copy_s, floor_s = statistics.median(copies), statistics.median(floors)
            per_s = median_of(runs, "per_s", 0)
            cpu_keys = [key for key in runs[0] if key.endswith("_cpu_us_per_item")]
            figures[f"async_{BIG}_2_workers"] = {
                "items_per_s": per_s,
                "runs_items_per_s": [round(r["per_s"]) for r in runs],
                "accept_ms": median_of(runs, "accept_ms"),
                "worker_rss_mb_max": round(max(r["worker_rss_mb"] for r in runs), 1),
                "machine_busy_pct": median_of(runs, "machine_busy_pct"),
                "postgres_cores": median_of(runs, "postgres_cores", 2),
                "raw_copy_rows_per_s": round(BIG / copy_s),
                "raw_copy_ms": round(copy_s * 1000, 1),
                "ratio_to_copy": round(per_s / (BIG / copy_s), 3),
                "raw_plain_copy_rows_per_s": round(BIG / floor_s),
                "raw_plain_copy_ms": round(floor_s * 1000, 1),
                "ratio_to_plain_copy": round(per_s / (BIG / floor_s), 3),
                **{key: median_of(runs, key) for key in cpu_keys},
            }
            print(f"  {figures[f'async_{BIG}_2_workers']}", file=sys.stderr, flush=True)
            figures["sync_statements"] = await statements_per_sync_batch(
                services, principal, relationships("count", SMALL)
            )
            print(f"  {figures['sync_statements']}", file=sys.stderr, flush=True)
            figures |= await sync_figures(
                services, client, floor_rows_per_s=BIG / floor_s, worker_pids=tuple(pids)
            )
            await stop(children)
        figures["async_scaling"] = await scaling(settings, client)
    async with gateway(settings, token, processes=MORE_GATEWAYS) as client:
        print(f"  with {MORE_GATEWAYS} gateway processes:", file=sys.stderr, flush=True)
        levels = ((CONCURRENCY, SYNC_CALLS_CONCURRENT),)
        more = await sync_figures(
            services, client, levels, tag=f"g{MORE_GATEWAYS}-", floor_rows_per_s=BIG / floor_s
        )
        figures |= {f"{k}_{MORE_GATEWAYS}_gateway_processes": v for k, v in more.items()}
    return figures
