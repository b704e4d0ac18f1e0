"""Redis Sentinel with real Valkey sentinels: the primary is killed in the middle of a run of
jobs, the sentinels promote the replica, and every accepted job still completes (PostgreSQL
holds every job; the reconciler re-enqueues whatever the promoted replica never received)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from shared.auth import AuthService
from shared.db import create_pool
from shared.services import create_redis
from shared.settings import Settings
from tests.conftest import bearer
from tests.faults import job_states, worker_processes
from tests.processes import wait_for
from tests.sentinels import SentinelGroup

SELFTEST = "/selftest/async/start"
BEFORE, DURING = 30, 20


@pytest.fixture
async def group(tmp_path: Path) -> AsyncIterator[SentinelGroup]:
    sentinels = SentinelGroup(tmp_path / "sentinel")
    try:
        await sentinels.start()
        yield sentinels
    finally:
        sentinels.stop()


async def submit(client: TestClient, token: str, number: int) -> str | None:
    """The job's token once the gateway accepted it; None when it answered 503 (not accepted)."""
    body = {"message": f"job {number}", "sleepSeconds": 0.3}
    response = await client.post(SELFTEST, json=body, headers=bearer(token))
    if response.status == 503:
        assert response.headers["Retry-After"] == "5"
        return None
    assert response.status in (200, 201, 202), await response.text()
    return str((await response.json())["token"])


async def promoted_after(group: SentinelGroup, killed_at: float) -> float:
    """Seconds from the kill until the sentinels agree the replica is the primary."""

    async def promoted() -> bool:
        return await group.primary() == group.replica_port

    await wait_for(promoted, timeout_s=30, step_s=0.05)
    return time.monotonic() - killed_at


async def test_jobs_go_on_after_a_sentinel_failover_and_none_is_lost(
    settings: Settings, group: SentinelGroup
) -> None:
    # Few slots, so jobs are still queued when the primary dies; a fast reconciler.
    config = settings.replace(
        redis_url=group.url, worker_max_jobs=3, reconcile_interval_s=1.0, job_lease_s=2.0
    )
    old_primary = await group.primary()
    assert old_primary == group.primary_port
    async with TestClient(TestServer(create_app(config))) as client:
        pool = await create_pool(config)
        try:
            token = await AuthService(pool).create_token("alice", ["view"])
            accepted = [await submit(client, token, n) for n in range(BEFORE)]
            assert None not in accepted
            with worker_processes(config, 2) as workers:

                async def some_done() -> bool:
                    return (await job_states(pool, accepted)).get("COMPLETE", 0) >= 5  # type: ignore[arg-type]

                await wait_for(some_done, timeout_s=30)
                group.kill("primary")
                killed_at = time.monotonic()
                watch = asyncio.create_task(promoted_after(group, killed_at))
                refused = 0
                # Jobs keep coming while the sentinels notice and promote the replica.
                for number in range(BEFORE, BEFORE + DURING):
                    job = await submit(client, token, number)
                    refused += job is None
                    if job is not None:
                        accepted.append(job)
                    await asyncio.sleep(0.25)

                failover_s = await watch
                # After the failover the gateway accepts again, and a synchronous call (the
                # waiter's subscription has moved to the new primary) gets its result.
                after = await client.post(
                    SELFTEST + "?wait=true", json={"message": "after"}, headers=bearer(token)
                )
                assert after.status == 200, await after.text()
                assert (await after.json())["echo"] == "after"

                async def all_ended() -> bool:
                    states = await job_states(pool, accepted)  # type: ignore[arg-type]
                    return states.get("PROCESSING", 0) == 0

                await wait_for(all_ended, timeout_s=60, step_s=0.2)
                ended_s = time.monotonic() - killed_at
                assert [worker.poll() for worker in workers] == [None, None]
            assert await job_states(pool, accepted) == {"COMPLETE": len(accepted)}  # type: ignore[arg-type]
            attempts = await pool.fetch(
                "SELECT attempts, count(*) FROM jobs WHERE token = ANY($1) GROUP BY 1", accepted
            )
            # Running jobs kept their PostgreSQL leases through the failover: none ran twice.
            assert {row[0] for row in attempts} == {1}
            print(
                f"failover: new primary {failover_s:.1f} s after the kill; {len(accepted)} jobs "
                f"accepted ({refused} refused with 503 meanwhile), all complete {ended_s:.1f} s "
                "after the kill"
            )
            redis = await create_redis(config)  # a client made now finds the new primary
            try:
                assert (await redis.info("server"))["tcp_port"] == group.replica_port
            finally:
                await redis.aclose()
        finally:
            await pool.close()
