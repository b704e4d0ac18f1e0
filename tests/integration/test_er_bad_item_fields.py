"""An item whose type or ends are a list, an object or a number fails alone, with its reason:
the rest of its batch is written, synchronous or not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, relationship, two_collections

FEEDS = "feeds_Equipment_Equipment"
REQUIRED = "is required (a non-empty string)"


async def outcome(
    client: TestClient, token: str, response: Any, is_async: bool
) -> dict[str, str | None]:
    """Item id -> its failure reason, or None when it was upserted."""
    body = await response.json()
    if is_async:
        assert response.status == 202, body
        status_url = body["data"]["statusUrl"].split("://", 1)[1].split("/", 1)[1]
        for _ in range(200):
            answer = await client.get(f"/{status_url}", headers=bearer(token))
            if answer.status != 202:
                break
            await asyncio.sleep(0.05)
        assert answer.status == 200, await answer.text()
        data = await answer.json()  # the job's result: the 207 body's data
    else:
        assert response.status == 207, body
        data = body["data"]
    result: dict[str, str | None] = {e["id"]: None for e in data["responses"]["success"]}
    result |= {e["id"]: e["message"] for e in data["responses"]["failure"]}
    return result


@pytest.mark.parametrize("is_async", [False, True])
async def test_odd_types_and_ends_fail_their_item_alone(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    background_worker: None,
    is_async: bool,
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    entities = [
        entity(ns, "x1", "AHU", entityType=["a"]),
        entity(ns, "x2", "AHU", entityType={"a": 1}),
        entity(ns, "x3", "AHU", entityType=5),
        entity(ns, "e1", "AHU"),
        entity(ns, "e2", "Fan"),
    ]
    response = await post_items(
        client, token, "entities", "august_14_81", entities, is_async=is_async
    )
    assert await outcome(client, token, response, is_async) == {
        "x1": f"entityType {REQUIRED}",
        "x2": f"entityType {REQUIRED}",
        "x3": f"entityType {REQUIRED}",
        "e1": None,
        "e2": None,
    }
    relationships = [
        relationship(ns, "r1", FEEDS, ["e1"], "e2"),
        relationship(ns, "r2", FEEDS, "e1", {"a": 1}),
        relationship(ns, "r3", FEEDS, "e1", "e2", relationshipType=[1]),
        relationship(
            ns,
            "r4",
            FEEDS,
            "e1",
            "e2",
            sourceERCollectionId="august_14_81",
            destinationERCollectionId=["august_14_8"],
        ),
        relationship(ns, "r5", FEEDS, "e1", "e2"),
    ]
    response = await post_items(
        client, token, "relationships", "august_14_81", relationships, is_async=is_async
    )
    assert await outcome(client, token, response, is_async) == {
        "r1": f"sourceEntityId {REQUIRED}",
        "r2": f"destinationEntityId {REQUIRED}",
        "r3": f"relationshipType {REQUIRED}",
        "r4": "destinationERCollectionId must name a registered ercollection",
        "r5": None,
    }


@pytest.mark.parametrize("is_async", [False, True])
async def test_an_entity_whose_type_was_retired_fails_alone(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    background_worker: None,
    is_async: bool,
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    entities = [entity(ns, "e1", "AHU"), entity(ns, "e2", "Fan")]
    response = await post_items(client, token, "entities", "august_14_81", entities)
    assert set((await outcome(client, token, response, False)).values()) == {None}
    retire = "UPDATE type_schemas SET is_current = false WHERE type_id = $1"
    await services.pool.execute(retire, f"{ns}__Fan")

    items = [relationship(ns, "r1", FEEDS, "e1", "e2"), relationship(ns, "r2", FEEDS, "e1", "e1")]
    response = await post_items(
        client, token, "relationships", "august_14_81", items, is_async=is_async
    )
    assert await outcome(client, token, response, is_async) == {
        "r1": f"The type '{ns}__Fan' of destination entity 'e2' is no longer an entity type "
        "of schema collection 'Brick_0_4'",
        "r2": None,
    }
    items = [entity(ns, "e2", "Fan"), entity(ns, "e1", "AHU")]
    response = await post_items(client, token, "entities", "august_14_81", items, is_async=is_async)
    assert await outcome(client, token, response, is_async) == {
        "e2": f"entityType '{ns}__Fan' is not an entity type of schema collection 'Brick_0_4'",
        "e1": None,
    }
