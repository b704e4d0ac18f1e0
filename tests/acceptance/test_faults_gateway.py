"""Acceptance: a real gateway process killed after it recorded an ER batch and before Redis
heard of it. The batch must still run: the reconciler queues it, every item ends once."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import aiohttp
from aiohttp.test_utils import TestClient

from shared.services import Services
from shared.settings import Settings
from shared.statuslog import store as statuslog
from tests.conftest import TokenFactory
from tests.er_helpers import ALL_SCOPES, entity, two_collections
from tests.faults import Proxy, free_port, item_final_states, job_states, worker_processes
from tests.processes import start, wait_for

ITEMS = 200


async def test_a_gateway_killed_between_staging_and_enqueue_loses_no_item(
    client: TestClient, services: Services, settings: Settings, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    namespace = await two_collections(client, services.pool, token)
    assert settings.redis_url is not None
    proxy = Proxy(settings.redis_url)
    await proxy.open()
    port = free_port()
    # The gateway reaches Redis through the proxy, which will hold its enqueue forever.
    gateway_settings = settings.replace(redis_url=proxy.url, port=port)
    gateway = start(gateway_settings, "gateway")
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/readyz") as response:
                        return response.status == 200
                return False

            await wait_for(ready, timeout_s=30)
            proxy.freeze()
            items = [entity(namespace, f"ahu-{i}", "AHU") for i in range(ITEMS)]
            headers = {
                "Authorization": f"Bearer {token}",
                "ercollectionid": "august_14_81",
                "async": "true",
            }
            post = asyncio.create_task(
                http.post(f"{base}/apollo/er/entities", json=items, headers=headers)
            )

            async def recorded() -> bool:
                return bool(await services.pool.fetchval("SELECT count(*) FROM er_batches"))

            await wait_for(recorded, timeout_s=30)
            gateway.send_signal(signal.SIGKILL)
            gateway.wait(timeout=10)
            post.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await post
    finally:
        if gateway.poll() is None:
            gateway.kill()
        proxy.thaw()
        await proxy.shut()
    job_token = await services.pool.fetchval("SELECT token FROM jobs WHERE kind LIKE 'er_%'")
    assert await services.redis.zcard(settings.queue_name) == 0  # Redis never heard of it
    transaction = await services.pool.fetchval("SELECT transaction_id FROM er_batches")
    # The staged items' Requested records, as a status read writes them first (migration 024).
    assert await statuslog.write_requested(services.pool) == ITEMS
    assert await item_final_states(services.pool, transaction) == {("Requested", 0): ITEMS}

    with worker_processes(settings.replace(reconcile_interval_s=0.5), 1):

        async def ended() -> bool:
            return (await job_states(services.pool, [job_token])).get("PROCESSING", 0) == 0

        await wait_for(ended, timeout_s=60, step_s=0.2)
    assert await job_states(services.pool, [job_token]) == {"COMPLETE": 1}
    assert await item_final_states(services.pool, transaction) == {("Completed", 1): ITEMS}
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0
