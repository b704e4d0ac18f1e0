"""The Apollo docs' erservice/ write pages replayed (file import aside): each page's request
with its ids adapted, its documented status and shape, and the documented error paths.
docs/apollo-compatibility.md lists the differences these tests pin down."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import (
    ENTITIES,
    NS,
    RELATIONSHIPS,
    doc_entity,
    doc_relationship,
    docs_headers,
    ok,
    world,
)
from tests.conftest import TokenFactory
from tests.er_helpers import register, upsert_ok

# postEntitiesSyncER, postEntitiesAsyncER, postRelationshipsSyncER: one object as the body.


async def test_post_entities_sync_er(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    item = doc_entity("JCI-507-B6", "Building", "JCI 507 Michigan Street Milwaukee Building B6")
    response = await client.post(
        "/apollo/er/entities?v=1.1", json=item, headers=docs_headers(token, **{"async": "false"})
    )
    body = await ok(response, 207)
    assert body["status"]["message"] == "Total number of Entities Upserted:  1."
    [success] = body["data"]["responses"]["success"]
    assert success["id"] == "JCI-507-B6"
    assert success["tracker"].endswith(
        f"/apollo/status/logs?entityid=JCI-507-B6&transactionid={body['transactionId']}"
    )


async def test_post_entities_async_er(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    item = doc_entity("JCI-507-B2", "Building", "JCI 507 Michigan Street Milwaukee Building B2")
    response = await client.post(
        "/apollo/er/entities?v=1.1", json=item, headers=docs_headers(token, **{"async": "true"})
    )
    body = await ok(response, 202)
    tracker = f"http://brickyard.test/apollo/status/logs?transactionid={body['transactionId']}"
    token_sent = body["data"]["token"]
    assert body["status"]["message"] == (
        f"Request {token_sent} is processed and can be tracked by URL {tracker}"
    )
    assert body["data"]["tracker"] == tracker


async def test_post_relationships_sync_er_single_object(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    item = doc_relationship("JCI-507-B1", "hasPart_Location_Location", "JCI-507-B1-F2")
    response = await client.post(
        "/apollo/er/relationships?v=1.1",
        json=item,
        headers=docs_headers(token, **{"async": "false"}),
    )
    # The page shows 201 with empty data; every other write page shows 207 with each item.
    body = await ok(response, 207)
    assert body["status"]["message"] == "Total number of Relationships Upserted:  1."


async def test_post_relationships_async_er_without_async_header(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    items = [doc_relationship("JCI-507-B1-F2", "isPartOf_Location_Location", "JCI-507-B1")]
    response = await client.post(
        "/apollo/er/relationships", json=items, headers=docs_headers(token)
    )
    body = await ok(response, 207)  # without 'async: true' a batch is synchronous
    assert len(body["data"]["responses"]["success"]) == 1
    items[0]["id"] += "-2"
    response = await client.post(
        "/apollo/er/relationships", json=items, headers=docs_headers(token, **{"async": "true"})
    )
    await ok(response, 202)


async def test_post_relationships_sync_across_er_collections(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    for collection in ("august_14_81", "august_14_8"):
        assert (await register(client, token, collection, "Brick_0_4")).status == 201
    ahu = doc_entity("ac4d999e-3798-11e8-a1af-c8e0eb18b031", "AHU", "AHU-1")
    boiler = doc_entity("ac4d8cd8-3798-11e8-a527-c8e0eb18b031", "Boiler", "Boiler 2")
    await upsert_ok(client, token, "entities", "august_14_81", [ahu])
    await upsert_ok(client, token, "entities", "august_14_8", [boiler])
    item = {
        "id": "5091e806-39b1-11e8-ae2c-c8e0eb18b031",
        "sourceEntityId": ahu["id"],
        "destinationEntityId": boiler["id"],
        "relationshipName": "test",
        "relationshipType": f"{NS}__isFedBy_Equipment_Equipment",
        "sourceERCollectionId": "august_14_81",
        "destinationERCollectionId": "august_14_8",
    }
    headers = {**docs_headers(token), "ercollectionid": "august_14_81", "async": "false"}
    response = await client.post("/apollo/er/relationships", json=[item], headers=headers)
    body = await ok(response, 207)
    [success] = body["data"]["responses"]["success"]
    assert success["message"] == "Relationship upserted successfully"


async def test_disallow_changing_er_type_while_updating(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    headers = docs_headers(token, **{"async": "false"})
    changed = [{**ENTITIES[1], "entityType": f"{NS}__Building"}]
    response = await client.post("/apollo/entities?v=1.1", json=changed, headers=headers)
    body = await ok(response, 207)
    assert body["status"]["message"].startswith("Total number of Entities Upserted:  0.")
    [failure] = body["data"]["responses"]["failure"]
    assert "entityType cannot change" in failure["message"]
    assert "entityid=JCI-507-B1-F1&transactionid=" in failure["tracker"]
    retyped = [{**RELATIONSHIPS[0], "relationshipType": f"{NS}__isPartOf_Location_Location"}]
    response = await client.post("/apollo/relationships?v=1.1", json=retyped, headers=headers)
    [failure] = (await ok(response, 207))["data"]["responses"]["failure"]
    assert "relationshipType cannot change" in failure["message"]


async def test_post_error_paths(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    headers = docs_headers(token, **{"async": "false"})
    malformed = await client.post("/apollo/er/entities", data="{", headers=headers)
    assert malformed.status == 400
    elsewhere = {**headers, "ercollectionid": "not-registered"}
    assert (
        await client.post("/apollo/er/entities", json=ENTITIES, headers=elsewhere)
    ).status == 403
    many = [doc_entity(f"e{i}", "Floor", "f") for i in range(101)]
    assert (await client.post("/apollo/er/entities", json=many, headers=headers)).status == 413
    too_many = [doc_entity(f"e{i}", "Floor", "f") for i in range(10_001)]
    async_headers = docs_headers(token, **{"async": "true"})
    response = await client.post("/apollo/er/relationships", json=too_many, headers=async_headers)
    assert response.status == 413
