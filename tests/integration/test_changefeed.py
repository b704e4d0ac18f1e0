"""The change feed over HTTP: pages from a sequence id, resumed; retention's 410; a live SSE
subscriber woken (through Redis) by an upsert made after it connected, and resumed."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from shared.changefeed.store import prune
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, put_grants, two_collections, upsert_ok


def headers(token: str, collection: str = "c1", **extra: str) -> dict[str, str]:
    return {**bearer(token), "erCollectionId": collection, **extra}


async def five_entities(client: TestClient, services: Services, token: str) -> str:
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    items = [entity(ns, f"e{i}", "AHU") for i in range(4)]
    await upsert_ok(client, token, "entities", "c1", items)
    await upsert_ok(client, token, "entities", "c1", [entity(ns, "e0", "AHU", customData={})])
    return ns


async def test_read_from_a_sequence_id_in_pages_and_resume(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await five_entities(client, services, token)
    response = await client.get("/apollo/changefeed/logs?limit=2", headers=headers(token))
    body = await response.json()
    assert response.status == 200, body
    assert [e["sequenceId"] for e in body["data"]] == [1, 2]
    assert body["paging"]["totalCount"] == 5
    first = body["data"][0]
    assert first["notificationType"] == "Created" and first["entityId"] == "e0"
    assert first["sequence"] == {"container": "c1", "sequenceid": 1, "wrap": False}
    assert first["sender"] == "ErCollection:c1" and first["relationshipId"] is None
    token_header = {"continuationToken": body["paging"]["continuationToken"]}
    more = await client.get(
        "/apollo/changefeed/logs?limit=2", headers=headers(token, **token_header)
    )
    assert [e["sequenceId"] for e in (await more.json())["data"]] == [3, 4]
    # A reader that saw 4 resumes from 5: the update of e0, in its own transaction.
    resumed = await client.get("/apollo/changefeed/logs?startSequenceId=5", headers=headers(token))
    (event,) = (await resumed.json())["data"]
    assert (event["notificationType"], event["entityId"], event["version"]) == (
        "Updated",
        "e0",
        "2",
    )
    assert event["transactionId"] != first["transactionId"]
    assert event["correlationid"]
    nothing = await client.get("/apollo/changefeed/logs?startSequenceId=6", headers=headers(token))
    assert nothing.status == 404
    for bad in ("startSequenceId=-1", "startTime=yesterday", "startSequenceId=3&endSequenceId=2"):
        response = await client.get(f"/apollo/changefeed/logs?{bad}", headers=headers(token))
        assert response.status == 400, bad
    response = await client.get("/apollo/changefeed/logs", headers=bearer(token))
    assert response.status == 400
    outsider = await make_token("mallory", *ALL_SCOPES)
    response = await client.get("/apollo/changefeed/logs", headers=headers(outsider))
    assert response.status == 403


async def test_a_sequence_older_than_the_retention_is_410(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await five_entities(client, services, token)
    await asyncio.sleep(0.05)
    await prune(services.pool, 0.01)  # what the bridge does with a retention of 0.01 s
    response = await client.get("/apollo/changefeed/logs?startSequenceId=3", headers=headers(token))
    assert response.status == 410
    assert (
        "events up to 5 were removed; read from 6" in (await response.json())["status"]["message"]
    )
    stream = await client.get(
        "/apollo/changefeed/logs",
        headers=headers(token, Accept="text/event-stream", **{"Last-Event-ID": "2"}),
    )
    assert stream.status == 410


async def next_events(response: ClientResponse, count: int) -> list[dict]:
    """Read ``count`` SSE events (skipping comments and the retry line)."""
    found: list[dict] = []
    event: dict = {}
    while len(found) < count:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode().rstrip("\n")
        if line.startswith("id: "):
            event["id"] = line[4:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line == "" and event:
            found.append(event)
            event = {}
    return found


async def test_an_sse_subscriber_receives_an_upsert_made_after_it_connected(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await five_entities(client, services, token)
    bad = await client.get(
        "/apollo/changefeed/logs",
        headers=headers(token, Accept="text/event-stream", **{"Last-Event-ID": "six"}),
    )
    assert bad.status == 400
    live = await client.get(
        "/apollo/changefeed/logs", headers=headers(token, Accept="text/event-stream")
    )
    assert live.status == 200 and live.content_type == "text/event-stream"
    await asyncio.sleep(0.2)  # connected and idle: nothing before it is replayed
    await upsert_ok(client, token, "entities", "c1", [entity(ns, "late", "Fan")])
    (event,) = await next_events(live, 1)
    assert event["id"] == "6"
    assert event["data"]["data"]["entityId"] == "late"
    assert event["data"]["data"]["notificationType"] == "Created"
    live.close()
    # Resumed after the event it saw last: the two changes made while it was away.
    await upsert_ok(
        client, token, "entities", "c1", [entity(ns, "later", "Fan"), entity(ns, "last", "Fan")]
    )
    again = await client.get(
        "/apollo/changefeed/logs",
        headers=headers(token, Accept="text/event-stream", **{"Last-Event-ID": "6"}),
    )
    events = await next_events(again, 2)
    assert [(e["id"], e["data"]["data"]["entityId"]) for e in events] == [
        ("7", "last"),
        ("8", "later"),
    ]
    again.close()


async def test_a_change_that_did_not_commit_is_no_event_and_takes_no_sequence_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await five_entities(client, services, token)
    async with services.pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, "
            "transaction_id) VALUES ('c1', 'ghost', $1, '{}', '{}', 'T')",
            f"{ns}__AHU",
        )
        await transaction.rollback()
    await upsert_ok(client, token, "entities", "c1", [entity(ns, "real", "AHU")])
    response = await client.get("/apollo/changefeed/logs?startSequenceId=6", headers=headers(token))
    (event,) = (await response.json())["data"]
    assert (event["sequenceId"], event["entityId"]) == (6, "real")


@pytest.mark.parametrize("lost", ["revoked", "role removed", "expired"])
async def test_an_open_stream_ends_when_its_access_does(
    settings: Settings, services: Services, make_token: TokenFactory, background_worker: None,
    lost: str,
) -> None:  # fmt: skip
    async with TestClient(
        TestServer(create_app(settings.replace(changefeed_recheck_s=0.2)))
    ) as client:
        owner = await make_token("alice", *ALL_SCOPES)
        ns = await two_collections(client, services.pool, owner, "c1", "c2")
        await put_grants(client, owner, "c1", bob="readonly")
        bob = await make_token("bob", "apollo_read", expires_in_s=3 if lost == "expired" else None)
        live = await client.get(
            "/apollo/changefeed/logs", headers=headers(bob, Accept="text/event-stream")
        )
        assert live.status == 200
        await upsert_ok(client, owner, "entities", "c1", [entity(ns, "seen", "Fan")])
        (event,) = await next_events(live, 1)
        assert event["data"]["data"]["entityId"] == "seen"
        if lost == "revoked":
            await services.auth.revoke_token(bob)
        elif lost == "role removed":
            await put_grants(client, owner, "c1")
        # The stream ends (EOF) within a few re-checks, and delivers nothing after.
        while await asyncio.wait_for(live.content.readline(), 8):
            pass
        await upsert_ok(client, owner, "entities", "c1", [entity(ns, "unseen", "Fan")])
        assert await live.content.read() == b""
