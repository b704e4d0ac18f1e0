"""``make bench ONLY=fairness``: principal B's latency under principal A's flood of large batches,
beside B's latency alone (issue 23)."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import orjson

from shared.auth import SCOPES, Principal
from shared.services import Services
from shared.settings import Settings
from tests.bench_er import NS, Client, gateway, prepare
from tests.bench_support import brickyard_workers, isolated, percentile, scenario

FLOOD_BATCHES = 20
FLOOD_ITEMS = 10_000
SMALL = 100
ASYNC_RUNS = 5
# 150 calls, so the p99 is a percentile (of 40 it was the slowest call) and still fits within
# the flood (about 3.5 s of calls at 23 ms, against a flood of about 8 s).
SYNC_CALLS = 150
# Slots per worker in the few-slots case, and A's running-jobs limit there (half of two workers').
FEW_SLOTS = 5


def entities(prefix: str, count: int) -> bytes:
    return orjson.dumps(
        [
            {"id": f"{prefix}-{i}", "entityType": f"{NS}__AHU", "entityName": f"AHU {i}"}
            for i in range(count)
        ]
    )


async def async_batch(client: Client, site: str, prefix: str) -> float:
    """Seconds from posting B's async 100-item batch to reading its result."""
    began = time.perf_counter()
    accepted = await client.call(
        "POST", "/apollo/er/entities", entities(prefix, SMALL), ercollectionid=site,
        **{"async": "true"},
    )  # fmt: skip
    await client.finish(accepted["data"]["token"], step_s=0.01)
    return time.perf_counter() - began


async def flood_batch(client: Client, batch: int) -> str:
    accepted = await client.call(
        "POST", "/apollo/er/entities", entities(f"flood{batch}", FLOOD_ITEMS),
        ercollectionid="plant", **{"async": "true"},
    )  # fmt: skip
    return str(accepted["data"]["token"])


async def b_latencies(client: Client, site: str, tag: str) -> dict[str, float]:
    async_s = [await async_batch(client, site, f"{tag}-a{run}") for run in range(ASYNC_RUNS)]
    sync_s = []
    for call in range(SYNC_CALLS):
        began = time.perf_counter()
        await client.call(
            "POST", "/apollo/er/entities", entities(f"{tag}-s{call}", SMALL), ercollectionid=site
        )
        sync_s.append(time.perf_counter() - began)
    return {
        "async_100_median_s": round(statistics.median(async_s), 3),
        "async_100_max_s": round(max(async_s), 3),
        "sync_100_p50_s": round(percentile(sync_s, 0.5), 4),
        "sync_100_p99_s": round(percentile(sync_s, 0.99), 4),
    }


async def b_beside_flood(services: Services, workers: Settings) -> dict[str, Any]:
    alice = await services.auth.create_token("bench-a", sorted(SCOPES))
    bob_token = await services.auth.create_token("bench-b", sorted(SCOPES))
    async with brickyard_workers(workers, 2), gateway(services.settings, alice) as a:
        await prepare(a)
        bob = Client(a.http, a.base, bob_token, a.pids)
        await bob.call(
            "POST",
            "/apollo/er/ercollections",
            {"erCollectionId": "bobsite", "schemaCollectionId": "ErBench"},
        )
        alone = await b_latencies(bob, "bobsite", "alone")
        began = time.perf_counter()
        flood = [await flood_batch(a, b) for b in range(FLOOD_BATCHES)]
        accepted_s = time.perf_counter() - began
        loaded = await b_latencies(bob, "bobsite", "loaded")
        measured_s = time.perf_counter() - began
        await asyncio.gather(*(a.finish(token, step_s=0.1) for token in flood))
        flood_s = time.perf_counter() - began
    return {
        "flood": f"{FLOOD_BATCHES} x {FLOOD_ITEMS} items by A",
        "slots_per_worker": workers.worker_max_jobs,
        "running_jobs_per_principal": workers.running_jobs_per_principal,
        "b_alone": alone,
        "b_under_flood": loaded,
        "sync_p99_under_flood_over_alone": round(
            loaded["sync_100_p99_s"] / alone["sync_100_p99_s"], 2
        ),
        "flood_accepted_s": round(accepted_s, 2),
        "b_measured_within_flood": measured_s < flood_s,
        "flood_done_s": round(flood_s, 2),
        "flood_items_per_s": round(FLOOD_BATCHES * FLOOD_ITEMS / flood_s),
    }


@scenario("fairness: principal B beside principal A's flood")
async def fairness(services: Services, principal: Principal) -> dict[str, Any]:
    return await b_beside_flood(services, services.settings)


@scenario("fairness: few slots, principal B beside principal A's flood")
async def fairness_few_slots(services: Services, principal: Principal) -> dict[str, Any]:
    """Fewer slots than A has batches (tests/integration/test_fairness.py's case): the queue's
    fair order and A's running-jobs limit (half the slots) are what keep B from waiting."""
    async with isolated(services.settings) as (own, _):  # the other scenario's collections
        workers = own.settings.replace(
            worker_max_jobs=FEW_SLOTS, running_jobs_per_principal=FEW_SLOTS
        )
        return await b_beside_flood(own, workers)
