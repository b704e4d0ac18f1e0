"""Fair scheduling between principals: one principal's flood of large batches does not make
another principal's small batch wait behind it (issue 23), measured with real worker processes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient

from shared.observability.heartbeats import live_workers
from shared.services import Services
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


async def test_a_small_batch_is_not_queued_behind_another_principals_flood(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, alice)
    assert (await register(client, bob, B_SITE, "Brick_0_4")).status == 201
    workers = [start(services.settings, "worker") for _ in range(2)]
    try:

        async def all_up() -> bool:
            live = await live_workers(services.redis, services.settings.queue_name)
            return len(live) == len(workers)

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
            f"\nB's async {SMALL}-item batch: alone {alone_s:.2f} s, under A's flood "
            f"{loaded_s:.2f} s; B's sync p99: alone {sync_alone_s:.3f} s, under the flood "
            f"{sync_loaded_s:.3f} s; A's batches still running after: {flood_left}"
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=5)
    # Measured under load, or the bound says nothing.
    assert flood_left > 0
    assert loaded_s < ASYNC_BOUND_S
