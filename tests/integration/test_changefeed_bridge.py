"""Two gateways on one cluster: one holds the bridge from PostgreSQL to Redis, and a stream on
the other is woken through Redis; when the holder stops, the other takes the bridge over."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from shared.changefeed.announce import ANNOUNCE_WINDOW_S, announce, feed_channel
from shared.jobs.channels import listen_forever
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory
from tests.er_helpers import ALL_SCOPES, entity, upsert_ok
from tests.integration.test_changefeed import five_entities, headers, next_events


async def test_a_stream_on_another_gateway_is_woken_and_the_bridge_is_taken_over(
    client: TestClient,
    services: Services,
    settings: Settings,
    make_token: TokenFactory,
    background_worker: None,
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await five_entities(client, services, token)
    await asyncio.sleep(0.3)  # the first gateway's bridge holds the lock by now
    async with TestClient(TestServer(create_app(settings))) as other:
        live = await other.get(
            "/apollo/changefeed/logs", headers=headers(token, Accept="text/event-stream")
        )
        assert live.status == 200
        await asyncio.sleep(0.2)
        await upsert_ok(client, token, "entities", "c1", [entity(ns, "first", "Fan")])
        (event,) = await next_events(live, 1)
        assert event["data"]["data"]["entityId"] == "first"
        # The holder goes away: the other gateway's bridge takes over and wakes its stream.
        await client.close()
        await asyncio.sleep(0.5)
        await upsert_ok(other, token, "entities", "c1", [entity(ns, "second", "Fan")])
        (event,) = await next_events(live, 1)
        assert event["data"]["data"]["entityId"] == "second"
        live.close()


async def test_writers_announce_through_redis_and_the_keeper_wakes_readers_of_other_writes(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    """Migration 027: the trigger no longer notifies (a notifying transaction holds a
    database-wide lock through its commit, so writers committed one at a time). An upsert wakes
    the stream itself; a write made with SQL alone (psql, a migration) is announced by the
    keeper's pass within a second or two."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await five_entities(client, services, token)
    notified: list[str] = []

    def heard(*args: object) -> None:
        notified.append(str(args[3]))

    async with services.pool.acquire() as listener:
        await listener.add_listener("brickyard_changefeed", heard)
        live = await client.get(
            "/apollo/changefeed/logs", headers=headers(token, Accept="text/event-stream")
        )
        assert live.status == 200
        await asyncio.sleep(0.2)
        await upsert_ok(client, token, "entities", "c1", [entity(ns, "announced", "Fan")])
        (event,) = await next_events(live, 1)
        assert event["data"]["data"]["entityId"] == "announced"
        await services.pool.execute(
            "INSERT INTO er_entities (collection_id, id, entity_type, derived, body,"
            " transaction_id) VALUES ('c1', 'by-sql', $1, '{}', '{}', 'T-sql')",
            f"{ns}__Fan",
        )
        (event,) = await next_events(live, 1)
        assert event["data"]["data"]["entityId"] == "by-sql"
        live.close()
        await listener.remove_listener("brickyard_changefeed", heard)
    assert notified == []


async def test_a_burst_of_announcements_is_one_message_now_and_one_when_the_window_closes(
    services: Services, settings: Settings
) -> None:
    heard: list[str] = []
    subscribed = asyncio.Event()
    listening = asyncio.create_task(
        listen_forever(
            services.redis, feed_channel(settings.queue_name), heard.append, subscribed.set
        )
    )
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        for _ in range(5):
            await announce(services.redis, settings.queue_name, ["c1", "c1"])
        await announce(services.redis, settings.queue_name, ["c2"])
        await asyncio.sleep(ANNOUNCE_WINDOW_S * 4)
        # Six announcements of c1: the first at once, the five others together, once.
        assert sorted(heard) == ["c1", "c1", "c2"]
        await announce(services.redis, settings.queue_name, ["c1"])  # a new window
        await asyncio.sleep(ANNOUNCE_WINDOW_S * 4)
        assert sorted(heard) == ["c1", "c1", "c1", "c2"]
    finally:
        listening.cancel()
