"""Fair scheduling between principals: one principal's flood of large batches does not make
another principal's small batch wait behind it (issue 23), measured with real worker processes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient

from shared.jobs import store
from shared.observability.heartbeats import live_workers
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, register, two_collections
from tests.processes import start, wait_for

FLOOD_BATCHES = 20
FLOOD_ITEMS = 10_000
SMALL = 100
SYNC_CALLS = 10
# The issue asks for 2 s. With each principal's share of a process bounded the small batch took
# 0.2-1.0 s here (2 cores shared with other work, two workers); without it 3.3-5.8 s, behind
# forty chunk loops. 2.5 s keeps a margin on a loaded machine and still fails without the share.
ASYNC_BOUND_S = 2.5
A_SITE, B_SITE = "august_14_81", "bob_site"
# Fewer slots than A's batches (the Kubernetes manifests keep 10 per worker): A's parents hold
# every slot until their batches end, one every 0.5-1 s, and B's job waited behind A's queued
# parents and helpers (about 10 s on main before fair order). A running-jobs limit of half the
# slots leaves B some: 0.25-0.8 s here, once 2.24 s on a machine at load 7. The bound keeps a
# margin for a loaded CI machine and still fails without fair order; `make bench ONLY=fairness`
# prints the figure beside the 2 s.
FEW_SLOTS, FEW_SLOTS_LIMIT, FEW_SLOTS_BOUND_S = 5, 5, 5.0
# A's short jobs: ten slots drain a hundred in about 3 s, and B's job needs one nap and a claim
# (0.4 s here; 2.9 s without fair order, behind A's backlog).
NAP = {"sleepSeconds": 0.3, "message": "", "fail": None}
BACKLOG = 100
NEXT_SLOT_BOUND_S = 2.0


def items(ns: str, prefix: str, count: int) -> list[dict[str, Any]]:
    return [entity(ns, f"{prefix}-{i}", "AHU") for i in range(count)]


async def accept(client: TestClient, token: str, site: str, batch: list[dict[str, Any]]) -> str:
    response = await post_items(client, token, "entities", site, batch, is_async=True)
    body = await response.json()
    assert response.status == 202, body
    return str(body["data"]["token"])


async def finished_in(client: TestClient, token: str, job_token: str, since: float) -> float:
    while True:
        response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
        if response.status == 200:
            return time.perf_counter() - since
        assert response.status == 202, await response.text()
        await asyncio.sleep(0.02)


async def sync_p99(client: TestClient, token: str, ns: str, tag: str) -> float:
    """The slowest of SYNC_CALLS synchronous 100-item batches (p99 of so few is the max)."""
    took = []
    for call in range(SYNC_CALLS):
        began = time.perf_counter()
        response = await post_items(
            client, token, "entities", B_SITE, items(ns, f"{tag}{call}", SMALL)
        )
        took.append(time.perf_counter() - began)
        assert response.status == 207, await response.text()
    return max(took)


async def flood_beside_b(
    client: TestClient, services: Services, make_token: TokenFactory, workers: Settings
) -> tuple[float, int]:
    """B's async batch under A's flood (seconds) and A's batches still running after it,
    with two worker processes started with ``workers``."""
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, alice)
    assert (await register(client, bob, B_SITE, "Brick_0_4")).status == 201
    processes = [start(workers, "worker") for _ in range(2)]
    try:

        async def all_up() -> bool:
            live = await live_workers(services.redis, services.settings.queue_name)
            return len(live) == len(processes)

        await wait_for(all_up, timeout_s=30)
        began = time.perf_counter()
        alone_s = await finished_in(
            client, bob, await accept(client, bob, B_SITE, items(ns, "alone", SMALL)), began
        )
        sync_alone_s = await sync_p99(client, bob, ns, "sync-alone")

        flood = [
            await accept(client, alice, A_SITE, items(ns, f"a{b}", FLOOD_ITEMS))
            for b in range(FLOOD_BATCHES)
        ]
        began = time.perf_counter()
        loaded_s = await finished_in(
            client, bob, await accept(client, bob, B_SITE, items(ns, "loaded", SMALL)), began
        )
        sync_loaded_s = await sync_p99(client, bob, ns, "sync-loaded")
        flood_left = await services.pool.fetchval(
            "SELECT count(*) FROM jobs WHERE token = any($1) AND state = 'PROCESSING'", flood
        )
        print(
            f"\n{workers.worker_max_jobs} slots per worker: B's async {SMALL}-item batch: alone "
            f"{alone_s:.2f} s, under A's flood {loaded_s:.2f} s; B's sync p99: alone "
            f"{sync_alone_s:.3f} s, under the flood {sync_loaded_s:.3f} s; A's batches still "
            f"running after: {flood_left}"
        )
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=5)
    return loaded_s, flood_left


async def test_a_small_batch_is_not_queued_behind_another_principals_flood(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    loaded_s, flood_left = await flood_beside_b(client, services, make_token, services.settings)
    # Measured under load, or the bound says nothing.
    assert flood_left > 0
    assert loaded_s < ASYNC_BOUND_S


async def test_with_few_slots_a_small_batch_finds_one_beside_another_principals_flood(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    """Few slots: A's twenty batches could hold every slot for seconds; A's running-jobs limit
    leaves B some, and the fair order puts B's job before A's backlog."""
    workers = services.settings.replace(
        worker_max_jobs=FEW_SLOTS, running_jobs_per_principal=FEW_SLOTS_LIMIT
    )
    loaded_s, flood_left = await flood_beside_b(client, services, make_token, workers)
    assert flood_left > 0
    assert loaded_s < FEW_SLOTS_BOUND_S


async def test_a_principals_next_job_goes_before_another_principals_backlog(
    services: Services,
) -> None:
    """Every slot is taken by A's short jobs, so the limit plays no part: B's job waits only for
    the next free slot, not for A's backlog to drain (FIFO: about 3 s here)."""
    alice = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    bob = await services.auth.authenticate(await services.auth.create_token("bo", ["view"]))
    workers = services.settings.replace(worker_max_jobs=5, running_jobs_per_principal=1000)
    processes = [start(workers, "worker") for _ in range(2)]
    try:

        async def all_up() -> bool:
            live = await live_workers(services.redis, services.settings.queue_name)
            return len(live) == len(processes)

        await wait_for(all_up, timeout_s=30)
        backlog = [await services.jobs.submit("selftest", alice, NAP) for _ in range(BACKLOG)]
        began = time.perf_counter()
        job = await services.jobs.submit("selftest", bob, NAP)

        async def done() -> bool:
            record = await store.get(services.pool, job.token)
            return record is not None and record.done

        await wait_for(done, timeout_s=60, step_s=0.01)
        waited_s = time.perf_counter() - began
        backlog_left = await services.pool.fetchval(
            "SELECT count(*) FROM jobs WHERE token = any($1) AND state = 'PROCESSING'",
            [queued.token for queued in backlog],
        )
        print(f"\nB's job beside A's {BACKLOG}: {waited_s:.2f} s; A's left: {backlog_left}")
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=5)
    assert backlog_left > BACKLOG / 2
    assert waited_s < NEXT_SLOT_BOUND_S
