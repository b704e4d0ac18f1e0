"""Real services for every test: each test gets its own Postgres schema and its own queue.

``BRICKYARD_DATABASE_URL`` / ``BRICKYARD_REDIS_URL`` point the suite at running servers; when
unset, the session starts embedded PostgreSQL and Valkey (as ``make run`` does) in a temp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import BaseRunner, TestClient, TestServer

from gateway.app import create_app
from gateway.limits import server_options
from shared.db import create_pool
from shared.embedded import services_for
from shared.migrations import apply_migrations
from shared.services import Services, create_redis
from shared.settings import Settings
from worker.settings import make_worker

TokenFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def service_settings() -> Iterator[Settings]:
    environment = Settings.from_env()
    # Not under pytest's basetemp: each pytest session resets its root to 0700, and the
    # embedded PostgreSQL runs as a user of its own that must still enter its data dir.
    data_dir = Path(tempfile.mkdtemp(prefix="brickyard-test-data-"))
    try:
        with services_for(environment.replace(data_dir=data_dir)) as resolved:
            yield resolved
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A directory for an embedded server of a test's own, outside pytest's basetemp (see
    ``service_settings``)."""
    directory = Path(tempfile.mkdtemp(prefix="brickyard-test-server-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def settings(service_settings: Settings) -> AsyncIterator[Settings]:
    """Settings for one test: a fresh schema with every migration, a queue of its own."""
    suffix = secrets.token_hex(6)
    isolated = service_settings.replace(
        database_schema=f"test_{suffix}",
        queue_name=f"brickyard-test:{suffix}",
        job_lease_s=2.0,
        sync_wait_timeout_s=30.0,
        public_url_override="http://brickyard.test",
    )
    conn = await asyncpg.connect(isolated.database_url)
    try:
        await apply_migrations(conn, isolated.database_schema)
        yield isolated
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{isolated.database_schema}" CASCADE')
        await conn.close()


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    pool = await create_pool(settings)
    redis = await create_redis(settings)
    try:
        yield Services.build(settings, pool, redis)
    finally:
        await redis.aclose()
        await pool.close()


class GatewayServer(TestServer):
    """aiohttp's test server, with the server options production uses (TestServer's own
    constructor drops them: they go to its start) and, with ``cancel_handlers=False``,
    production's handling of a client that goes away: its handler is not cancelled."""

    def __init__(self, settings: Settings, *, cancel_handlers: bool = True) -> None:
        super().__init__(create_app(settings))
        self.cancel_handlers = cancel_handlers

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return await super()._make_runner(
            **{**kwargs, "handler_cancellation": self.cancel_handlers}
        )


async def started_gateway(settings: Settings, *, cancel_handlers: bool = True) -> TestServer:
    server = GatewayServer(settings, cancel_handlers=cancel_handlers)
    await server.start_server(**server_options(settings))
    return server


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    """The gateway over HTTP, via aiohttp's test client."""
    async with TestClient(await started_gateway(settings)) as test_client:
        yield test_client


@pytest.fixture
async def make_token(services: Services) -> TokenFactory:
    async def make(principal: str = "alice", *scopes: str, expires_in_s: int | None = None) -> str:
        return await services.auth.create_token(principal, list(scopes), expires_in_s)

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def run_jobs(settings: Settings) -> Callable[[], Awaitable[None]]:
    """Run a burst-mode worker in this process until the test's queue is empty."""

    async def run() -> None:
        worker = make_worker(settings, burst=True, poll_delay=0.01)
        try:
            await worker.main()
        finally:
            await worker.close()

    return run


@pytest.fixture
async def background_worker(settings: Settings) -> AsyncIterator[None]:
    """A worker running alongside the test, for calls that wait for their job."""
    worker = make_worker(settings)
    task = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # close() awaits the worker's job tasks, which the cancellation may have just interrupted.
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
