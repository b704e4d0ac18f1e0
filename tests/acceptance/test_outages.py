"""A dependency outage is a 503 with Retry-After in each API family's format, never a 500, and
the gateway recovers by itself once the dependency is back.

The suite's PostgreSQL and Redis are shared by every test, so the outage is made real another
way: the gateway under test reaches them through a TCP proxy of this test's own, which is shut
(listener closed, live connections dropped) and opened again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from gateway.app import create_app
from gateway.middleware import RETRY_AFTER_S
from shared.outages import outage_of
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.faults import Proxy
from tests.registry_helpers import CREATE_REQUEST, CREATE_START, ERROR_RESPONSE

ORGANIZATION = "my.organization"
SYNAPSE_GET = f"/repo/v1/schema/organization?name={ORGANIZATION}"
APOLLO_GET = "/apollo/schema/schemacollections"
SELFTEST = "/selftest/async/start"
SCHEMA_REQUEST = {
    "concreteType": CREATE_REQUEST,
    "schema": {"$id": f"{ORGANIZATION}-Thing-1.0.0", "type": "object"},
}


@dataclass
class Gateway:
    client: TestClient
    postgres: Proxy
    redis: Proxy
    headers: dict[str, str]
    job_token: str


@pytest.fixture
async def gateway(settings: Settings, make_token: TokenFactory) -> AsyncIterator[Gateway]:
    """A gateway whose PostgreSQL and Redis sit behind proxies, with data to read back."""
    assert settings.database_url is not None and settings.redis_url is not None
    postgres, redis = Proxy(settings.database_url), Proxy(settings.redis_url)
    await postgres.open()
    await redis.open()
    proxied = settings.replace(database_url=postgres.url, redis_url=redis.url)
    scopes = ("view", "modify", "apollo_read", "apollo_write", "apollo_admin")
    headers = bearer(await make_token("alice", *scopes))
    try:
        # Started while both are up: start-up applies migrations and subscribes to Redis.
        async with TestClient(TestServer(create_app(proxied))) as client:
            organization = {"organizationName": ORGANIZATION}
            response = await client.post(
                "/repo/v1/schema/organization", json=organization, headers=headers
            )
            assert response.status == 201, await response.text()
            response = await client.post(SELFTEST, json={"message": "hi"}, headers=headers)
            assert response.status == 201, await response.text()
            job_token = (await response.json())["token"]
            yield Gateway(client, postgres, redis, headers, job_token)
            # The app shuts down with both up, as a real one would find them sooner or later.
            for proxy in (postgres, redis):
                if proxy._server is None:
                    await proxy.open()
    finally:
        for proxy in (postgres, redis):
            if proxy._server is not None:
                await proxy.shut()


async def every_route(gateway: Gateway) -> dict[str, ClientResponse]:
    """One authenticated read per family, a job's status, and two job starts."""
    client, headers = gateway.client, gateway.headers
    return {
        SYNAPSE_GET: await client.get(SYNAPSE_GET, headers=headers),
        APOLLO_GET: await client.get(APOLLO_GET, headers=headers),
        "/async/get/": await client.get(f"/async/get/{gateway.job_token}", headers=headers),
        SELFTEST: await client.post(SELFTEST, json={"message": "hi"}, headers=headers),
        CREATE_START: await client.post(CREATE_START, json=SCHEMA_REQUEST, headers=headers),
    }


async def unavailable(response: ClientResponse, route: str) -> str:
    """The 503's message, once its status, Retry-After and family's format are checked."""
    body: Any = await response.json()
    assert response.status == 503, (route, body)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_S)
    if route.startswith("/repo/"):
        assert body["concreteType"] == ERROR_RESPONSE
        return body["reason"]
    if route.startswith("/apollo/"):
        assert body["status"]["code"] == "503" and body["data"] is None
        assert body["transactionId"]
        return body["status"]["message"]
    assert body["error"]["status"] == 503
    return body["error"]["message"]


async def answers_normally(gateway: Gateway) -> None:
    answers = await every_route(gateway)
    expected = {
        SYNAPSE_GET: 200,
        APOLLO_GET: 200,
        "/async/get/": 202,
        SELFTEST: 201,
        CREATE_START: 201,
    }
    got = {route: response.status for route, response in answers.items()}
    assert got == expected, {route: await response.text() for route, response in answers.items()}


async def test_postgres_down_is_503_on_every_route_then_recovers(gateway: Gateway) -> None:
    await answers_normally(gateway)
    await gateway.postgres.shut()
    for _ in range(2):  # the first call finds its pooled connection cut, the second cannot connect
        for route, response in (await every_route(gateway)).items():
            message = await unavailable(response, route)
            assert "PostgreSQL is unavailable" in message
    ready = await gateway.client.get("/readyz")
    assert ready.status == 503 and ready.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert (await ready.json())["checks"]["postgres"]["ok"] is False

    await gateway.postgres.open()
    await answers_normally(gateway)
    assert (await gateway.client.get("/readyz")).status == 200


async def test_redis_down_is_503_for_job_starts_then_recovers(gateway: Gateway) -> None:
    await gateway.redis.shut()
    client, headers = gateway.client, gateway.headers
    for route in (SELFTEST, CREATE_START):
        body = {"message": "hi"} if route == SELFTEST else SCHEMA_REQUEST
        response = await client.post(route, json=body, headers=headers)
        assert "unavailable" in await unavailable(response, route)
    # Reads need PostgreSQL only.
    assert (await client.get(SYNAPSE_GET, headers=headers)).status == 200
    assert (await client.get(f"/async/get/{gateway.job_token}", headers=headers)).status == 202
    ready = await client.get("/readyz")
    assert ready.status == 503 and ready.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert (await ready.json())["checks"]["redis"]["ok"] is False

    await gateway.redis.open()
    await answers_normally(gateway)


async def test_a_postgres_that_accepts_but_never_answers_is_503_within_the_connect_timeout(
    gateway: Gateway,
) -> None:
    """A hung server (or a dropped network) must not hold requests for asyncpg's default 60 s."""
    await gateway.postgres.shut()
    held: set[asyncio.StreamWriter] = set()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.add(writer)  # accepted, never answered

    hung = await asyncio.start_server(hold, "127.0.0.1", gateway.postgres.port)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await gateway.client.get(SYNAPSE_GET, headers=gateway.headers)
        assert "PostgreSQL is unavailable" in await unavailable(response, SYNAPSE_GET)
        assert loop.time() - started < 10
    finally:
        hung.close()
        for writer in held:
            writer.transport.abort()
        with contextlib.suppress(Exception):
            await hung.wait_closed()
    await gateway.postgres.open()
    await answers_normally(gateway)


# What counts as an outage, judged on real exceptions ------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def raised(action: Awaitable[Any]) -> BaseException:
    try:
        await action
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


async def test_refused_lost_and_timed_out_connections_are_outages(settings: Settings) -> None:
    assert settings.database_url is not None
    port = closed_port()
    refused = await raised(asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x"))
    assert isinstance(refused, ConnectionRefusedError) and outage_of(refused) == "PostgreSQL"
    unreachable = Redis(host="127.0.0.1", port=port)
    assert outage_of(await raised(unreachable.ping())) == "Redis"
    await unreachable.aclose()

    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    hung = await asyncio.start_server(hold, "127.0.0.1", 0)
    hung_port = hung.sockets[0].getsockname()[1]
    try:
        url = f"postgresql://postgres@127.0.0.1:{hung_port}/x"
        timed_out = await raised(asyncpg.connect(url, timeout=0.2))
        assert isinstance(timed_out, TimeoutError) and outage_of(timed_out) == "PostgreSQL"
    finally:
        hung.close()
        for writer in held:
            writer.transport.abort()

    conn = await asyncpg.connect(settings.database_url)
    killer = await asyncpg.connect(settings.database_url)
    try:
        busy = conn.fetchval("SELECT pg_sleep(5)")
        running = asyncio.ensure_future(busy)
        await asyncio.sleep(0.2)
        await killer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
        lost = await raised(running)
        assert outage_of(lost) == "PostgreSQL", repr(lost)
        closed = await raised(conn.fetchval("SELECT 1"))
        assert isinstance(closed, asyncpg.InterfaceError) and outage_of(closed) == "PostgreSQL"
    finally:
        await killer.close()
        conn.terminate()


async def test_bugs_and_bad_queries_are_not_outages(settings: Settings) -> None:
    assert settings.database_url is not None
    conn = await asyncpg.connect(settings.database_url)
    try:
        assert outage_of(await raised(conn.fetchval("SELECT $1::int", "x"))) is None
        assert outage_of(await raised(conn.fetchval("SELECT 1 / 0"))) is None
        # One connection used by two tasks at once: asyncpg's InterfaceError, and our bug.
        first = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.2)"))
        await asyncio.sleep(0.05)
        concurrent = await raised(conn.fetchval("SELECT 1"))
        await first
        assert isinstance(concurrent, asyncpg.InterfaceError)
        assert outage_of(concurrent) is None
    finally:
        await conn.close()

    async def our_own(exc: Exception) -> None:
        raise exc

    assert outage_of(await raised(our_own(ConnectionRefusedError("not a socket")))) is None
    assert outage_of(await raised(asyncio.wait_for(asyncio.sleep(1), 0.01))) is None
    assert outage_of(await raised(asyncio.to_thread(open, "/no/such/file"))) is None
