"""Schema collections: create, list (paged), get, stats, delete, and their error paths."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer
from tests.schema_helpers import (
    API,
    admin_headers,
    create_collection,
    get_all,
    publish,
    release,
    sync,
)

COLLECTIONS = f"{API}/schemacollections"


async def test_create_returns_the_collection_and_its_namespace(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    response = await client.post(
        COLLECTIONS, json={"schemaCollectionId": "Brick_1_4", "release": "1.4"}, headers=headers
    )
    assert response.status == 200
    body = await response.json()
    assert body["status"] == {"message": "Operation completed", "code": "200"}
    assert len(body["transactionId"]) == 32 and body["transactionId"].isupper()
    created = body["data"]
    # The doc's system data first, Brickyard's fields after.
    assert list(created)[:5] == [
        "sysTimestamp",
        "sysCorrelationId",
        "sysRequestorId",
        "sysClientId",
        "sysActive",
    ]
    assert created["sysCorrelationId"] == body["transactionId"] and created["sysActive"] is True
    assert created["sysRequestorId"] == "alice"
    assert created["schemaCollectionId"] == "Brick_1_4"
    assert created["namespace"] == "BRICK_1_4"
    assert (created["releaseLine"], created["release"]) == ("brick", "1.4")
    assert created["syncedReleases"] == {} and created["createdBy"] == "alice"

    fetched = await client.get(f"{COLLECTIONS}/brick_1_4", headers=headers)
    assert fetched.status == 200
    assert (await fetched.json())["data"]["schemaCollectionId"] == "Brick_1_4"


async def test_without_release_a_collection_follows_the_newest(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    assert (await create_collection(client, headers, "Follower"))["release"] == "latest"


async def test_an_existing_collection_is_409_case_insensitively(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    await create_collection(client, headers, "Site_A")
    for spelling in ("Site_A", "SITE_A", "site_a"):
        response = await client.post(
            COLLECTIONS, json={"schemaCollectionId": spelling}, headers=headers
        )
        assert response.status == 409
        assert (await response.json())["status"]["code"] == "409"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "'schemaCollectionId' is required"),
        ({"schemaCollectionId": 42}, "'schemaCollectionId' is required"),
        ({"schemaCollectionId": "has space"}, "must match"),
        ({"schemaCollectionId": "Double__Underscore"}, "without '__'"),
        ({"schemaCollectionId": "9starts_with_digit"}, "must match"),
        ({"schemaCollectionId": "Ok", "release": "0.9"}, "no version '0.9'"),
        ({"schemaCollectionId": "Ok", "release": 1.4}, "'release' must be"),
        ({"schemaCollectionId": "Ok", "releaseLine": "nothing"}, "has no releases"),
    ],
)
async def test_create_refuses_bad_input(
    client: TestClient, make_token: TokenFactory, body: object, fragment: str
) -> None:
    headers = await admin_headers(make_token)
    response = await client.post(COLLECTIONS, json=body, headers=headers)
    assert response.status == 400
    assert fragment in (await response.json())["status"]["message"]


async def test_collections_need_tokens_and_scopes(
    client: TestClient, make_token: TokenFactory
) -> None:
    assert (await client.get(COLLECTIONS)).status == 401
    reader = bearer(await make_token("bob", "apollo_read"))
    writer = bearer(await make_token("carol", "apollo_write"))
    response = await client.post(COLLECTIONS, json={"schemaCollectionId": "X"}, headers=reader)
    assert response.status == 403
    assert (await client.get(COLLECTIONS, headers=writer)).status == 403
    assert (await client.delete(f"{COLLECTIONS}/X", headers=reader)).status == 403


async def test_list_is_paged_with_a_continuation_token(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    names = [f"Site_{i:02d}" for i in range(7)]
    for name in names:
        await create_collection(client, headers, name)
    listed, pagings = await get_all(client, COLLECTIONS, headers, size=3)
    assert listed == names  # the doc's list of ids
    assert [p["totalCount"] for p in pagings] == [7, 7, 7]
    assert len(pagings) == 3


async def test_unknown_collection_is_404(client: TestClient, make_token: TokenFactory) -> None:
    headers = await admin_headers(make_token)
    for method, path in (
        ("GET", f"{COLLECTIONS}/Nope"),
        ("GET", f"{COLLECTIONS}/Nope/stats"),
        ("DELETE", f"{COLLECTIONS}/Nope"),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status == 404, path
        assert (await response.json())["status"]["code"] == "404"


async def test_stats_count_active_inactive_and_versions(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    headers = await admin_headers(make_token)
    await publish(client, headers, release("1.0"))
    await create_collection(client, headers, "Acme", releaseLine="acme")
    await sync(client, headers, "Acme")
    delete = await client.delete(f"{API}/entitytypes/ACME__Sensor", headers=headers)
    assert delete.status == 200
    response = await client.get(f"{COLLECTIONS}/Acme/stats", headers=headers)
    assert response.status == 200
    stats = (await response.json())["data"]
    assert list(stats)[:4] == [
        "entityTypeSchemaCount",
        "relationshipTypeSchemaCount",
        "messageTypeSchemaCount",
        "eventTypeSchemaCount",
    ]
    assert stats["entityTypeSchemaCount"] == 7 and stats["relationshipTypeSchemaCount"] == 0
    assert stats["entitytypes"] == {"active": 7, "inactive": 1, "versions": 8, "release": "1.0"}
    assert stats["relationshiptypes"] == {
        "active": 0,
        "inactive": 0,
        "versions": 0,
        "release": None,
    }
    assert stats["syncedReleases"] == {"entitytypes": "1.0"}


async def test_delete_is_412_while_the_collection_has_active_schemas(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    headers = await admin_headers(make_token)
    small = release("1.0", entitytypes=[{"name": "Equipment"}, {"name": "Point"}])
    await publish(client, headers, {**small, "relationshiptypes": []})
    await create_collection(client, headers, "Doomed", releaseLine="acme")
    await sync(client, headers, "Doomed")
    refused = await client.delete(f"{COLLECTIONS}/Doomed", headers=headers)
    assert refused.status == 412
    assert "active schemas" in (await refused.json())["status"]["message"]

    for type_id in ("DOOMED__Equipment", "DOOMED__Point"):
        assert (await client.delete(f"{API}/entitytypes/{type_id}", headers=headers)).status == 200
    deleted = await client.delete(f"{COLLECTIONS}/Doomed", headers=headers)
    assert deleted.status == 200
    assert (await client.get(f"{COLLECTIONS}/Doomed", headers=headers)).status == 404
    # Its type schemas went with it.
    gone = await client.get(f"{API}/entitytypes/DOOMED__Point/versions", headers=headers)
    assert gone.status == 404
