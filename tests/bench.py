"""``make bench``: performance figures and ratios, printed and written to bench-results/.

Runs against ``BRICKYARD_DATABASE_URL`` / ``BRICKYARD_REDIS_URL`` when set, else embedded servers,
in a schema and queue of its own that it drops afterwards. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from gateway.app import create_app
from shared.auth import SCOPES, Principal
from shared.db import create_pool
from shared.embedded import services_for
from shared.jobs import JobWaiter
from shared.migrations import apply_migrations
from shared.services import Services, create_redis
from shared.settings import Settings
from worker.settings import make_worker

Scenario = Callable[[Services, Principal], Awaitable[dict[str, Any]]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


@contextlib.asynccontextmanager
async def workers(settings: Settings, count: int, **overrides: Any) -> AsyncIterator[None]:
    running = [make_worker(settings, **overrides) for _ in range(count)]
    tasks = [asyncio.create_task(worker.main()) for worker in running]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task, worker in zip(tasks, running, strict=True):
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await worker.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def round_trips(services: Services, principal: Principal, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        await services.jobs.run_and_wait(
            "selftest", principal, {"sleepSeconds": 0, "message": "", "fail": None}
        )
        timings.append((time.perf_counter() - began) * 1000)
    return timings


@scenario("job round trip (submit, run, wait)")
async def job_round_trip(services: Services, principal: Principal) -> dict[str, Any]:
    async with workers(services.settings, 2):
        await round_trips(services, principal, 20)  # warm up connections
        prompt = await round_trips(services, principal, 300)
    # The same path with arq's stock pick-up: polling the queue every 0.5 s, no wake-up message.
    async with workers(services.settings, 2, poll_delay=0.5, wake_on_enqueue=False):
        stock = await round_trips(services, principal, 20)
    return {
        "p50_ms": round(statistics.median(prompt), 2),
        "p95_ms": round(percentile(prompt, 0.95), 2),
        "stock_arq_poll_p50_ms": round(statistics.median(stock), 2),
        "speedup_vs_stock_poll": round(statistics.median(stock) / statistics.median(prompt), 1),
    }


@scenario("job throughput (2 workers, 2000 jobs)")
async def job_throughput(services: Services, principal: Principal) -> dict[str, Any]:
    count = 2000
    began = time.perf_counter()
    tokens = []
    for _ in range(count):
        job = await services.jobs.submit(
            "selftest", principal, {"sleepSeconds": 0, "message": "", "fail": None}
        )
        tokens.append(job.token)
    submitted = time.perf_counter()
    async with workers(services.settings, 2):
        for token in tokens:
            await services.jobs.wait(token)
    finished = time.perf_counter()
    return {
        "submit_per_s": round(count / (submitted - began)),
        "run_per_s": round(count / (finished - submitted)),
    }


class Api:
    """The running system over HTTP, as a client sees it."""

    def __init__(self, http: aiohttp.ClientSession, base: str, token: str) -> None:
        self.http, self.base, self.token = http, base, token

    async def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", **headers}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
            return r.status, await r.json()

    async def finish(self, job_token: str) -> Any:
        """Poll a job as a client would (every 20 ms) until it is no longer running."""
        while True:
            status, body = await self.call("GET", f"/async/get/{job_token}")
            if status != 202:
                return body
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def live_system(settings: Settings, token: str, worker_count: int = 2) -> AsyncIterator[Api]:
    """The gateway in this process and worker processes beside it, as `brickyard run` has them."""
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    env = {**os.environ, **settings.to_env(), "BRICKYARD_LOG_LEVEL": "warning"}
    children = [
        await asyncio.create_subprocess_exec(sys.executable, "-m", "shared.cli", "worker", env=env)
        for _ in range(worker_count)
    ]
    try:
        async with aiohttp.ClientSession() as http:
            yield Api(http, f"http://127.0.0.1:{port}", token)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            await asyncio.wait_for(child.wait(), timeout=15)
        await runner.cleanup()


def timed(began: float) -> float:
    return round(time.perf_counter() - began, 2)


@scenario("schema sync from Brick releases")
async def schema_sync(services: Services, principal: Principal) -> dict[str, Any]:
    token = await services.auth.create_token("bench", sorted(SCOPES))
    figures: dict[str, Any] = {}
    async with live_system(services.settings, token) as api:
        await api.call(
            "POST",
            "/apollo/schema/schemacollections",
            {"schemaCollectionId": "Bench_1_4", "release": "1.4"},
        )
        for label, version in (("create_1_4", None), ("move_to_1_5", "1.5"), ("repeat_1_5", None)):
            for schema_type in ("entitytypes", "relationshiptypes"):
                body = {"schemaType": schema_type, "schemaCollectionId": "Bench_1_4"}
                if version:
                    body["version"] = version
                began = time.perf_counter()
                status, answer = await api.call("POST", "/apollo/schema/sync", body)
                reason = (
                    answer["data"][schema_type][0]["response"]["reason"]
                    if status == 200
                    else answer
                )
                figures[f"{label}_{schema_type}_s"] = timed(began)
                figures[f"{label}_{schema_type}"] = reason
    return figures


@scenario("ER batches on Brick 1.4 schemas")
async def er_batches(services: Services, principal: Principal) -> dict[str, Any]:
    token = await services.auth.create_token("bench", sorted(SCOPES))
    ns, side = "ERBENCH", 50
    figures: dict[str, Any] = {}
    async with live_system(services.settings, token) as api:
        await api.call(
            "POST",
            "/apollo/schema/schemacollections",
            {"schemaCollectionId": "ErBench", "release": "1.4"},
        )
        for schema_type in ("entitytypes", "relationshiptypes"):
            await api.call(
                "POST",
                "/apollo/schema/sync",
                {"schemaType": schema_type, "schemaCollectionId": "ErBench"},
            )
        await api.call(
            "POST",
            "/apollo/er/ercollections",
            {"erCollectionId": "plant", "schemaCollectionId": "ErBench"},
        )
        entities = [
            {
                "id": f"{kind.lower()}-{i}",
                "entityType": f"{ns}__{kind}",
                "entityName": f"{kind} {i}",
            }
            for kind in ("AHU", "Fan")
            for i in range(side)
        ]
        _, accepted = await api.call(
            "POST", "/apollo/er/entities", entities, ercollectionid="plant", **{"async": "true"}
        )
        await api.finish(accepted["data"]["token"])

        def feeds(start: int, count: int) -> list[dict[str, Any]]:
            return [
                {
                    "id": f"rel-{k}",
                    "sourceEntityId": f"ahu-{k % side}",
                    "destinationEntityId": f"fan-{k // side % side}",
                    "relationshipName": "feeds",
                    "relationshipType": f"{ns}__feeds_Equipment_Equipment",
                }
                for k in range(start, start + count)
            ]

        began = time.perf_counter()
        _, accepted = await api.call(
            "POST",
            "/apollo/er/relationships",
            feeds(0, 10000),
            ercollectionid="plant",
            **{"async": "true"},
        )
        accepted_s = time.perf_counter() - began
        result = await api.finish(accepted["data"]["token"])
        elapsed = time.perf_counter() - began
        successes = len(result["responses"]["success"])
        figures["async_10000_accept_ms"] = round(accepted_s * 1000, 1)
        figures["async_10000_total_s"] = round(elapsed, 2)
        figures["async_items_per_s"] = round(10000 / elapsed)
        figures["async_successes"] = successes

        latencies = []
        for call in range(30):
            began = time.perf_counter()
            await api.call(
                "POST",
                "/apollo/er/relationships",
                feeds(20000 + call * 100, 100),
                ercollectionid="plant",
            )
            latencies.append((time.perf_counter() - began) * 1000)
        figures["sync_100_items_p50_ms"] = round(statistics.median(latencies), 1)
        figures["sync_100_items_p95_ms"] = round(percentile(latencies, 0.95), 1)
        figures["sync_items_per_s"] = round(100_000 / statistics.median(latencies))
    return figures


@scenario("Synapse schema creation jobs")
async def synapse_creates(services: Services, principal: Principal) -> dict[str, Any]:
    token = await services.auth.create_token("bench", sorted(SCOPES))
    count = 200
    create = "/repo/v1/schema/type/create/async/start"
    request_type = "org.sagebionetworks.repo.model.schema.CreateSchemaRequest"
    async with live_system(services.settings, token) as api:
        await api.call("POST", "/repo/v1/schema/organization", {"organizationName": "bench.org"})
        base = {"$id": "bench.org-Base-1.0.0", "type": "object", "properties": {"a": {}}}
        _, job = await api.call("POST", create, {"concreteType": request_type, "schema": base})
        await api.finish(job["token"])
        began = time.perf_counter()
        tokens = []
        for i in range(count):
            schema = {
                "$id": f"bench.org-Item{i}-1.0.0",
                "type": "object",
                "properties": {"base": {"$ref": "bench.org-Base-1.0.0"}},
            }
            _, job = await api.call(
                "POST", create, {"concreteType": request_type, "schema": schema}
            )
            tokens.append(job["token"])
        accepted = time.perf_counter() - began
        outcomes = [await api.finish(job_token) for job_token in tokens]
        elapsed = time.perf_counter() - began
    created = sum(1 for o in outcomes if "newVersionInfo" in o)
    return {
        "schemas": count,
        "created": created,
        "accept_per_s": round(count / accepted),
        "created_per_s": round(count / elapsed),
    }


async def run(selected: list[str]) -> dict[str, Any]:
    base = Settings.from_env()
    with services_for(base) as resolved:
        suffix = secrets.token_hex(4)
        settings = resolved.replace(
            database_schema=f"bench_{suffix}",
            queue_name=f"brickyard-bench:{suffix}",
            log_level="warning",
        )
        conn = await asyncpg.connect(settings.database_url)
        await apply_migrations(conn, settings.database_schema)
        pool = await create_pool(settings)
        redis = await create_redis(settings)
        waiter = JobWaiter(redis, settings.queue_name)
        await waiter.start()
        services = Services.build(settings, pool, redis, waiter)
        principal = await services.auth.authenticate(
            await services.auth.create_token("bench", sorted(SCOPES))
        )
        results: dict[str, Any] = {}
        try:
            for name, function in SCENARIOS.items():
                if selected and not any(s in name for s in selected):
                    continue
                print(f"- {name} ...", file=sys.stderr, flush=True)
                results[name] = await function(services, principal)
                print(f"  {json.dumps(results[name])}", flush=True)
        finally:
            await waiter.stop()
            await redis.aclose()
            await pool.close()
            await conn.execute(f'DROP SCHEMA "{settings.database_schema}" CASCADE')
            await conn.close()
        return results


def main() -> None:
    from shared.logging import configure_logging

    configure_logging(Settings(log_level="warning"), process="bench", stream=sys.stderr)
    results = asyncio.run(run(sys.argv[1:]))
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out / 'latest.json'}")


if __name__ == "__main__":
    main()
