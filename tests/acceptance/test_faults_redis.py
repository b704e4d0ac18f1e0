"""Acceptance: real worker processes while Redis dies and comes back without its data, and a
gateway killed between recording a batch and enqueueing it. Every accepted job must end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from shared.auth import AuthService
from shared.db import create_pool
from shared.jobs import store
from shared.services import Services, create_redis
from shared.settings import Settings
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections
from tests.faults import PrivateValkey, item_final_states, job_states, worker_processes
from tests.processes import wait_for

JOBS = 24
NOOP = {"sleepSeconds": 0, "message": "", "fail": None}


@pytest.fixture
async def valkey(tmp_path: Path) -> AsyncIterator[PrivateValkey]:
    server = PrivateValkey(tmp_path / "valkey")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fault_settings(settings: Settings, valkey: PrivateValkey) -> Settings:
    # Few slots per worker so that some jobs are still queued when Redis dies.
    return settings.replace(
        redis_url=valkey.url, worker_max_jobs=4, reconcile_interval_s=1.0, job_lease_s=2.0
    )


async def test_redis_restarting_empty_loses_no_accepted_job(
    fault_settings: Settings, valkey: PrivateValkey
) -> None:
    pool = await create_pool(fault_settings)
    redis = await create_redis(fault_settings)
    services = Services.build(fault_settings, pool, redis)
    try:
        principal = await services.auth.authenticate(
            await services.auth.create_token("alice", ["view"])
        )
        request = {"sleepSeconds": 1.5, "message": "kept", "fail": None}
        tokens = [
            (await services.jobs.submit("selftest", principal, request)).token for _ in range(JOBS)
        ]
        with worker_processes(fault_settings, 2):

            async def some_running() -> bool:
                started = await pool.fetchval("SELECT count(*) FROM jobs WHERE attempts > 0")
                return bool(started >= 4)

            await wait_for(some_running, timeout_s=30)
            valkey.kill()
            valkey.start()  # the same address, no data: queue, claims and job keys are gone
            await redis.connection_pool.disconnect()  # this test's own client reconnects too
            assert await redis.zcard(fault_settings.queue_name) == 0

            async def all_ended() -> bool:
                return (await job_states(pool, tokens)).get("PROCESSING", 0) == 0

            await wait_for(all_ended, timeout_s=60, step_s=0.2)
        assert await job_states(pool, tokens) == {"COMPLETE": JOBS}
        # Running jobs kept their leases and were not enqueued again: each ran exactly once.
        attempts = await pool.fetch("SELECT attempts FROM jobs WHERE token = ANY($1)", tokens)
        assert {row["attempts"] for row in attempts} == {1}
    finally:
        await redis.aclose()
        await pool.close()


async def test_a_job_recorded_but_never_enqueued_is_queued_by_the_reconciler(
    settings: Settings,
) -> None:
    """What a gateway killed between its transaction and the enqueue leaves: a job row (and
    for a batch, its staged items) that Redis never saw."""
    fast = settings.replace(reconcile_interval_s=0.5)
    pool = await create_pool(fast)
    try:
        principal_id = await pool.fetchval(
            "INSERT INTO principals (name) VALUES ('alice') RETURNING id"
        )
        token = "a" * 32
        await store.insert(pool, token, "selftest", principal_id, NOOP)
        with worker_processes(fast, 1):

            async def done() -> bool:
                job = await store.get(pool, token)
                return job is not None and job.done

            await wait_for(done, timeout_s=30)
        job = await store.get(pool, token)
        assert job is not None and job.state.value == "COMPLETE"
    finally:
        await pool.close()


async def test_workers_survive_a_redis_outage(
    fault_settings: Settings, valkey: PrivateValkey
) -> None:
    """Redis down for 3 s: workers wait and reconnect; they do not crash and respawn."""
    with worker_processes(fault_settings, 2) as workers:
        await asyncio.sleep(2)
        valkey.kill()
        await asyncio.sleep(3)
        valkey.start()
        await asyncio.sleep(1)
        assert [worker.poll() for worker in workers] == [None, None]
        pool = await create_pool(fault_settings)
        redis = await create_redis(fault_settings)
        try:
            services = Services.build(fault_settings, pool, redis)
            principal = await services.auth.authenticate(
                await services.auth.create_token("alice", ["view"])
            )
            job = await services.jobs.submit("selftest", principal, {"message": "after"})

            async def done() -> bool:
                found = await store.get(pool, job.token)
                return found is not None and found.done

            await wait_for(done, timeout_s=30)
        finally:
            await redis.aclose()
            await pool.close()


async def test_valkey_down_for_5_s_mid_batch_and_mid_selftest_loses_nothing(
    fault_settings: Settings, valkey: PrivateValkey
) -> None:
    async with TestClient(TestServer(create_app(fault_settings))) as client:
        pool = await create_pool(fault_settings)
        try:
            token = await AuthService(pool).create_token("alice", [*ALL_SCOPES, "view"])
            namespace = await two_collections(client, pool, token)
            items = [entity(namespace, f"ahu-{i}", "AHU") for i in range(10_000)]
            long_selftest = await client.post(
                "/selftest/async/start", json={"sleepSeconds": 4}, headers=bearer(token)
            )
            selftest_token = (await long_selftest.json())["token"]
            with worker_processes(fault_settings, 2):
                response = await post_items(
                    client, token, "entities", "august_14_81", items, is_async=True
                )
                assert response.status == 202, await response.text()
                job_token = (await response.json())["data"]["token"]

                async def started() -> bool:
                    job = await store.get(pool, job_token)
                    return job is not None and job.attempts > 0

                await wait_for(started, timeout_s=30, step_s=0.01)
                valkey.kill()
                await asyncio.sleep(5)
                valkey.start()

                async def ended() -> bool:
                    states = await job_states(pool, [job_token, selftest_token])
                    return states.get("PROCESSING", 0) == 0

                await wait_for(ended, timeout_s=90, step_s=0.2)
            assert await job_states(pool, [job_token, selftest_token]) == {"COMPLETE": 2}
            transaction = await pool.fetchval("SELECT DISTINCT transaction_id FROM status_logs")
            assert await item_final_states(pool, transaction) == {("Completed", 1): 10_000}
            assert await pool.fetchval("SELECT count(*) FROM er_batches") == 0
        finally:
            await pool.close()
