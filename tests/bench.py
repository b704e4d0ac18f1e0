"""``make bench``: performance figures and ratios, printed and written to bench-results/.

Runs against ``BRICKYARD_DATABASE_URL`` / ``BRICKYARD_REDIS_URL`` when set, else embedded servers,
in a schema and queue of its own that it drops afterwards. Nothing here asserts a time.
``python -m tests.bench jobs ER`` runs only the scenarios whose name contains one of the words.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.app import create_app
from shared.auth import SCOPES, Principal
from shared.embedded import services_for
from shared.services import Services
from shared.settings import Settings

# Registers the job-core, the ER, then the peers' scenarios.
from tests import (  # noqa: F401
    bench_er,
    bench_fairness,
    bench_ontology,
    bench_peer_jobs,
    bench_round_trip,
)
from tests.bench_support import (
    SCENARIOS,
    Scenario,
    brickyard_workers,
    isolated,
    scenario,
)


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
    try:
        async with brickyard_workers(settings, worker_count), aiohttp.ClientSession() as http:
            yield Api(http, f"http://127.0.0.1:{port}", token)
    finally:
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


@scenario("Synapse schema creations")
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


def chosen(selected: list[str]) -> dict[str, Scenario]:
    """The scenarios whose name contains any of ``selected``; all when none.

    Case matters, so that ``ER`` does not also pick every name with "worker" in it.
    """
    return {
        name: function
        for name, function in SCENARIOS.items()
        if not selected or any(term in name for term in selected)
    }


async def run(scenarios: dict[str, Scenario]) -> dict[str, Any]:
    with services_for(Settings.from_env()) as resolved:
        async with isolated(resolved) as (services, principal):
            results: dict[str, Any] = {}
            for name, function in scenarios.items():
                print(f"- {name} ...", file=sys.stderr, flush=True)
                try:
                    results[name] = await function(services, principal)
                except Exception as exc:
                    # One broken scenario should not cost the figures of all the others.
                    traceback.print_exc()
                    results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"  {json.dumps(results[name])}", flush=True)
            return results


def main() -> None:
    from shared.logging import configure_logging

    configure_logging(Settings(log_level="warning"), process="bench", stream=sys.stderr)
    selected = sys.argv[1:]
    scenarios = chosen(selected)
    if not scenarios:
        names = "\n  ".join(SCENARIOS)
        sys.exit(f"no scenario name contains any of {selected}; the scenarios:\n  {names}")
    results = asyncio.run(run(scenarios))
    failed = [name for name, figures in results.items() if "error" in figures]
    latest = Path("bench-results") / "latest.json"
    latest.parent.mkdir(exist_ok=True)
    if selected and latest.exists():
        # A partial run updates its own scenarios and keeps the others' last figures.
        results = {**json.loads(latest.read_text()), **results}
    latest.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {latest}")
    if failed:
        sys.exit(f"failed (see above): {', '.join(failed)}")


if __name__ == "__main__":
    main()
