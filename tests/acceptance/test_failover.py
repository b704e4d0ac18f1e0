"""Acceptance: a PostgreSQL failover under load. A primary with a synchronous streaming standby,
a real gateway and two real workers on a multi-host URL; async ER batches and sync calls run while
the primary is SIGKILLed and the standby promoted. Meanwhile the gateway answers 503 with
Retry-After; within 10 s of the promotion work resumes; in the end every acknowledged job and
item is there exactly once, every item has one final status and the change feed has no gap."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import pytest
from yarl import URL

from shared.auth import AuthService
from shared.db import CONNECT_TIMEOUT_S, connect, create_pool
from shared.migrations import apply_migrations
from shared.outages import confirmed_outage, outage_of
from shared.settings import Settings
from tests.er_helpers import create_schema_collection, entity
from tests.faults import free_port, job_states, worker_processes
from tests.live_system import wait_ready
from tests.processes import start, wait_for
from tests.standby_pair import StandbyPair, standby_pair

COLLECTION = "failover_er"
ASYNC_ITEMS = 200
SYNC_ITEMS = 20
RESUME_BOUND_S = 10.0


@dataclass
class Load:
    """What the clients sent and what the gateway acknowledged."""

    jobs: dict[str, float] = field(default_factory=dict)  # token -> when acknowledged
    items: set[str] = field(default_factory=set)
    synced_at: list[float] = field(default_factory=list)
    unavailable: int = 0
    wrong: list[str] = field(default_factory=list)


@pytest.fixture
async def pair() -> AsyncIterator[StandbyPair]:
    with standby_pair() as started:
        yield started


@pytest.fixture
async def failover_settings(settings: Settings, pair: StandbyPair) -> Settings:
    moved = settings.replace(
        database_url=pair.url(),
        port=free_port(),
        public_url_override=None,
        reconcile_interval_s=1.0,
        job_lease_s=2.0,
        sync_wait_timeout_s=10.0,
    )
    conn = await asyncpg.connect(moved.database_url)
    try:
        await apply_migrations(conn, moved.database_schema)
    finally:
        await conn.close()
    return moved


async def answered(
    http: aiohttp.ClientSession, load: Load, items: list[dict[str, object]], *, is_async: bool
) -> None:
    headers = {"ercollectionid": COLLECTION, "async": "true" if is_async else "false"}
    async with http.post("/apollo/er/entities", json=items, headers=headers) as response:
        body = await response.json(content_type=None)
        if response.status == 503 and response.headers.get("Retry-After"):
            load.unavailable += 1
        elif is_async and response.status == 202:
            load.jobs[body["data"]["token"]] = time.monotonic()
            load.items |= {str(item["id"]) for item in items}
        elif not is_async and response.status == 207 and not body["data"]["responses"]["failure"]:
            load.synced_at.append(time.monotonic())
            load.items |= {str(item["id"]) for item in items}
        else:
            load.wrong.append(f"{response.status} {body}")


async def send_batches(
    http: aiohttp.ClientSession, load: Load, namespace: str, stop: asyncio.Event, *, is_async: bool
) -> None:
    size, prefix = (ASYNC_ITEMS, "a") if is_async else (SYNC_ITEMS, "s")
    number = 0
    while not stop.is_set():
        number += 1
        items = [entity(namespace, f"{prefix}{number}-{i}", "AHU") for i in range(size)]
        await answered(http, load, items, is_async=is_async)
        await asyncio.sleep(0.05)


async def first_job_done_after(pool: asyncpg.Pool, load: Load, since: float) -> bool:
    later = [token for token, at in load.jobs.items() if at > since]
    return bool(later) and (await job_states(pool, later[:1])).get("COMPLETE") == 1


async def test_failover_to_synchronous_standby_loses_nothing_acknowledged(
    failover_settings: Settings, pair: StandbyPair
) -> None:
    settings = failover_settings
    pool = await create_pool(settings)
    gateway = start(settings, "gateway")
    load, stop = Load(), asyncio.Event()
    try:
        token = await AuthService(pool).create_token(
            "alice", ["apollo_read", "apollo_write", "apollo_admin"]
        )
        namespace = await create_schema_collection(pool, "Failover_1")
        await asyncio.to_thread(wait_ready, settings.public_url, gateway)
        headers = {"Authorization": f"Bearer {token}"}
        timeout = aiohttp.ClientTimeout(total=30)
        async with (
            aiohttp.ClientSession(settings.public_url, headers=headers, timeout=timeout) as http,
            contextlib.AsyncExitStack() as stack,
        ):
            stack.enter_context(worker_processes(settings, 2))
            registered = {"erCollectionId": COLLECTION, "schemaCollectionId": "Failover_1"}
            async with http.post("/apollo/er/ercollections", json=registered) as response:
                assert response.status == 201, await response.text()
            senders = [
                asyncio.create_task(send_batches(http, load, namespace, stop, is_async=flag))
                for flag in (True, False)
            ]
            await asyncio.sleep(3)
            assert load.jobs and load.synced_at, load.wrong
            await asyncio.to_thread(pair.primary.kill)
            await asyncio.sleep(1.5)
            some_job = next(iter(load.jobs))
            async with http.get(f"/async/get/{some_job}") as during:
                assert during.status == 503, await during.text()
                assert int(during.headers["Retry-After"]) > 0
            await asyncio.to_thread(pair.promote)
            promoted_at = time.monotonic()

            async def resumed() -> bool:
                synced = any(at > promoted_at for at in load.synced_at)
                return synced and await first_job_done_after(pool, load, promoted_at)

            await wait_for(resumed, timeout_s=RESUME_BOUND_S, step_s=0.1)
            print(f"work resumed {time.monotonic() - promoted_at:.1f} s after the promotion")
            await asyncio.sleep(1)
            stop.set()
            await asyncio.gather(*senders)

            async def all_done() -> bool:
                return (await job_states(pool, list(load.jobs))).get("COMPLETE") == len(load.jobs)

            await wait_for(all_done, timeout_s=30, step_s=0.2)
        assert load.wrong == []
        assert load.unavailable > 0  # the load did meet the failover
        await check_everything_acknowledged_is_there(pool, load)
    finally:
        stop.set()
        gateway.send_signal(signal.SIGTERM)
        await asyncio.to_thread(gateway.wait, 15)
        await pool.close()


async def check_everything_acknowledged_is_there(pool: asyncpg.Pool, load: Load) -> None:
    assert await job_states(pool, list(load.jobs)) == {"COMPLETE": len(load.jobs)}
    stored = await pool.fetch(
        "SELECT id, count(*) AS n FROM er_entities WHERE collection_id = $1 GROUP BY id",
        COLLECTION,
    )
    copies = {row["id"]: row["n"] for row in stored}
    assert {copies.get(item) for item in load.items} == {1}
    # Every item written (acknowledged or not) has exactly one final state.
    finals = await pool.fetch(
        """SELECT l.state, (SELECT count(*) FROM jsonb_array_elements(l.state_history) e
                            WHERE e->>'state' IN ('Completed', 'Failed')) AS finals
           FROM status_logs l WHERE l.item_id = ANY($1::text[])""",
        list(load.items),
    )
    assert len(finals) >= len(load.items)
    assert {(row["state"], row["finals"]) for row in finals} == {("Completed", 1)}
    # The change feed numbers events 1, 2, 3... with no gap, and holds every stored entity.
    await pool.execute("SELECT er_changefeed_sequence()")
    blocks = await pool.fetch(
        """SELECT first_sequence, last_sequence, item_ids FROM er_changefeed_blocks
           WHERE collection_id = $1 AND first_sequence IS NOT NULL ORDER BY first_sequence""",
        COLLECTION,
    )
    expected_first = 1
    for block in blocks:
        assert block["first_sequence"] == expected_first, "a gap in the change feed"
        assert block["last_sequence"] - block["first_sequence"] + 1 == len(block["item_ids"])
        expected_first = block["last_sequence"] + 1
    in_feed = {item for block in blocks for item in block["item_ids"]}
    assert set(copies) <= in_feed


async def test_a_standby_is_an_outage_until_promoted(settings: Settings, pair: StandbyPair) -> None:
    """Without the primary in the URL, a standby is refused (an outage: 503, workers wait) rather
    than used until a write fails; the same pool serves once it is promoted."""
    on_primary = settings.replace(database_url=pair.node_url(pair.primary))
    on_standby = settings.replace(database_url=pair.node_url(pair.standby))
    client_state_error = asyncpg.InternalClientError("cannot switch to state 15")
    primary_pool, standby_pool = await create_pool(on_primary), await create_pool(on_standby)
    try:
        assert await confirmed_outage(client_state_error, primary_pool) is None  # a bug
        with pytest.raises(asyncpg.exceptions.TargetServerAttributeNotMatched) as refused:
            await standby_pool.fetchval("SELECT 1")
        assert outage_of(refused.value) == "PostgreSQL"
        with pytest.raises(asyncpg.exceptions.TargetServerAttributeNotMatched):
            await connect(on_standby)
        await asyncio.to_thread(pair.primary.kill)
        assert await confirmed_outage(client_state_error, primary_pool) == "PostgreSQL"
        await asyncio.to_thread(pair.promote)
        assert await standby_pool.fetchval("SELECT pg_is_in_recovery()") is False
        await (await connect(on_standby)).close()
    finally:
        await primary_pool.close()
        await standby_pool.close()


async def test_a_host_that_never_answers_does_not_hide_the_next(settings: Settings) -> None:
    """The first host accepts the TCP connection and says nothing (a node lost without a reset):
    its connect timeout is its own, and the next host is still tried."""
    server = URL(settings.database_url or "")
    if not server.host:
        pytest.skip("needs a PostgreSQL on TCP")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hosts = f"127.0.0.1:{silent.getsockname()[1]},{server.host}:{server.port or 5432}"
        url = str(server).replace(server.raw_authority.rpartition("@")[2], hosts, 1)
        both = settings.replace(database_url=f"{url}?target_session_attrs=read-write")
        started = time.monotonic()
        conn = await connect(both)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
        assert time.monotonic() - started < CONNECT_TIMEOUT_S + 3
