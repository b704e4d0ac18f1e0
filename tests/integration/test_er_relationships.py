"""Relationship batches: the seed's cross-collection example, type pairs, per-item failures."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    entity,
    post_items,
    put_grants,
    query_string,
    relationship,
    two_collections,
    upsert_ok,
)

SOURCE_ENTITY = "ac4d999e-3798-11e8-a1af-c8e0eb18b031"
DESTINATION_ENTITY = "ac4d8cd8-3798-11e8-a527-c8e0eb18b031"
SEED_RELATIONSHIP = {
    "id": "5091e806-39b1-11e8-ae2c-c8e0eb18b031",
    "sourceEntityId": SOURCE_ENTITY,
    "destinationEntityId": DESTINATION_ENTITY,
    "relationshipName": "test",
    "relationshipType": "BRICK_0_4__isFedBy_Equipment_Equipment",
    "sourceERCollectionId": "august_14_81",
    "destinationERCollectionId": "august_14_8",
}


async def test_seed_example_answers_207_with_a_tracker_that_resolves_to_completed(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await upsert_ok(client, token, "entities", "august_14_81", [entity(ns, SOURCE_ENTITY, "AHU")])
    await upsert_ok(
        client, token, "entities", "august_14_8", [entity(ns, DESTINATION_ENTITY, "Fan")]
    )

    response = await post_items(client, token, "relationships", "august_14_81", [SEED_RELATIONSHIP])
    body = await response.json()
    assert response.status == 207, body
    assert body["status"] == {
        "message": "Total number of Relationships Upserted:  1.",
        "code": "207",
    }
    transaction = body["transactionId"]
    assert len(transaction) == 32 and transaction == transaction.upper()
    [success] = body["data"]["responses"]["success"]
    assert success["id"] == SEED_RELATIONSHIP["id"]
    assert success["message"] == "Relationship upserted successfully"
    assert success["tracker"] == (
        "http://brickyard.test/apollo/status/logs?relationshipid="
        f"{SEED_RELATIONSHIP['id']}&transactionid={transaction}"
    )

    logs = await client.get(query_string(success["tracker"]), headers=bearer(token))
    assert logs.status == 200
    [record] = (await logs.json())["data"]
    assert record["state"] == "Completed"
    assert record["serviceData"] == {
        "erCollectionId": "august_14_81",
        "relationshipId": SEED_RELATIONSHIP["id"],
    }
    assert [entry["state"] for entry in record["stateHistory"]] == [
        "Requested",
        "Processing",
        "Completed",
    ]

    stored = await client.get(
        f"/apollo/er/relationships/{SEED_RELATIONSHIP['id']}",
        headers={**bearer(token), "ercollectionid": "august_14_81"},
    )
    assert (await stored.json())["data"] == [
        {
            **SEED_RELATIONSHIP,
            # The docs' derived fields: the relation, and each end's top class and type.
            "brickRelationshipType": "BRICK_0_4__isFedBy",
            "brickRelationshipName": "isFedBy",
            "brickSourceEntityType": "BRICK_0_4__Equipment",
            "brickSourceEntitySubType": "BRICK_0_4__AHU",
            "brickDestinationEntityType": "BRICK_0_4__Equipment",
            "brickDestinationEntitySubType": "BRICK_0_4__Fan",
            "isActive": True,
        }
    ]


async def entities_in(client: TestClient, token: str, ns: str) -> None:
    """AHU a1, Fan f1, Temperature_Sensor t1 in august_14_81; Room r2 in august_14_8."""
    await upsert_ok(
        client,
        token,
        "entities",
        "august_14_81",
        [entity(ns, "a1", "AHU"), entity(ns, "f1", "Fan"), entity(ns, "t1", "Temperature_Sensor")],
    )
    await upsert_ok(client, token, "entities", "august_14_8", [entity(ns, "r2", "Room")])


async def get_relationship(client: TestClient, token: str, relationship_id: str) -> int:
    response = await client.get(
        f"/apollo/er/relationships/{relationship_id}",
        headers={**bearer(token), "ercollectionid": "august_14_81"},
    )
    return response.status


async def test_disallowed_source_type_fails_naming_both_types_and_the_rest_is_written(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await entities_in(client, token, ns)
    items = [
        relationship(ns, "ok-1", "hasPoint_Equipment_Point", "a1", "t1"),
        # A point cannot have points: Temperature_Sensor is no Equipment.
        relationship(ns, "bad", "hasPoint_Equipment_Point", "t1", "a1"),
        relationship(ns, "ok-2", "feeds_Equipment_Equipment", "a1", "f1"),
    ]
    response = await post_items(client, token, "relationships", "august_14_81", items)
    body = await response.json()
    assert response.status == 207
    responses = body["data"]["responses"]
    assert [s["id"] for s in responses["success"]] == ["ok-1", "ok-2"]
    [failure] = responses["failure"]
    assert failure["id"] == "bad"
    assert "'BRICK_0_4__Temperature_Sensor'" in failure["message"]
    assert "'BRICK_0_4__AHU'" in failure["message"]
    assert body["status"]["message"] == ("Total number of Relationships Upserted:  2. Failed:  1.")
    assert [await get_relationship(client, token, i) for i in ("ok-1", "bad", "ok-2")] == [
        200,
        404,
        200,
    ]
    logs = await client.get(query_string(failure["tracker"]), headers=bearer(token))
    [record] = (await logs.json())["data"]
    assert record["state"] == "Failed" and record["message"] == failure["message"]


async def test_each_broken_relationship_fails_with_its_own_reason(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await entities_in(client, token, ns)
    cross = {"sourceERCollectionId": "august_14_81", "destinationERCollectionId": "august_14_8"}
    feeds, point_of = "feeds_Equipment_Equipment", "isPointOf_Point_Equipment"
    cases = {
        "no-source": (
            relationship(ns, "no-source", feeds, "ghost", "f1"),
            "source entity 'ghost' does not exist",
        ),
        "wrong-header": (
            relationship(ns, "wrong-header", feeds, "a1", "f1", sourceERCollectionId="august_14_8"),
            "sourceERCollectionId must equal",
        ),
        "unknown-type": (
            relationship(ns, "unknown-type", "likes_Equipment_Equipment", "a1", "f1"),
            "is not a relationship type",
        ),
        "bad-derived": (
            relationship(
                ns, "bad-derived", feeds, "a1", "f1", brickSourceEntitySubType="BRICK_0_4__Fan"
            ),
            "brickSourceEntitySubType is derived by the server as 'BRICK_0_4__AHU'",
        ),
        "extra-field": (
            relationship(ns, "extra-field", feeds, "a1", "f1", colour="red"),
            "Additional properties",
        ),
        "no-destination-there": (
            relationship(ns, "no-destination-there", feeds, "a1", "f1", **cross),
            "destination entity 'f1' does not exist in ercollection 'august_14_8'",
        ),
    }
    # Both collection ids naming the header's collection: inside one collection, as the docs'
    # reads show every relationship.
    same = {"sourceERCollectionId": "august_14_81", "destinationERCollectionId": "august_14_81"}
    good = [
        relationship(ns, "cross-ok", point_of, "t1", "r2", **cross),
        relationship(
            ns, "derived-ok", feeds, "a1", "f1", brickSourceEntitySubType="BRICK_0_4__AHU"
        ),
        relationship(ns, "same-collection", feeds, "a1", "f1", **same),
    ]
    items = [item for item, _ in cases.values()] + good
    response = await post_items(client, token, "relationships", "august_14_81", items)
    responses = (await response.json())["data"]["responses"]
    assert [s["id"] for s in responses["success"]] == ["cross-ok", "derived-ok", "same-collection"]
    reasons = {failure["id"]: failure["message"] for failure in responses["failure"]}
    assert list(reasons) == list(cases)
    for item_id, (_, expected) in cases.items():
        assert expected in reasons[item_id], (item_id, reasons[item_id])
    stats = await client.get("/apollo/er/ercollections/august_14_81/stats", headers=bearer(token))
    [data] = (await stats.json())["data"]
    summary = data["Summary"]
    assert summary["Relationships"] == 3 and summary["CrossCollectionRelationships"] == 1


async def test_upsert_replaces_the_whole_relationship_but_never_its_type(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await entities_in(client, token, ns)
    feeds = "feeds_Equipment_Equipment"
    first = relationship(ns, "r", feeds, "a1", "f1", customData={"note": "first"})
    await upsert_ok(client, token, "relationships", "august_14_81", [first])
    replaced = relationship(ns, "r", feeds, "a1", "f1", relationshipName="renamed")
    await upsert_ok(client, token, "relationships", "august_14_81", [replaced])
    response = await client.get(
        "/apollo/er/relationships/r", headers={**bearer(token), "ercollectionid": "august_14_81"}
    )
    [stored] = (await response.json())["data"]
    assert "customData" not in stored
    assert stored["relationshipName"] == "renamed"

    retyped = relationship(ns, "r", "isFedBy_Equipment_Equipment", "a1", "f1")
    # Reversed, its ends' types (derived fields) would change: refused as well.
    reversed_ends = relationship(ns, "r", feeds, "f1", "a1")
    for item, reason in (
        (retyped, "relationshipType cannot change after creation"),
        (reversed_ends, "brickSourceEntitySubType cannot change after creation"),
    ):
        response = await post_items(client, token, "relationships", "august_14_81", [item])
        [failure] = (await response.json())["data"]["responses"]["failure"]
        assert reason in failure["message"]
    count = await services.pool.fetchval("SELECT count(*) FROM er_relationships")
    body = await services.pool.fetchval("SELECT body FROM er_relationships WHERE id = 'r'")
    assert count == 1 and body["relationshipName"] == "renamed"


async def test_destination_collection_needs_read_access_and_the_source_write_access(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, alice)
    await entities_in(client, alice, ns)
    item = {
        **relationship(ns, "x", "isPointOf_Point_Equipment", "t1", "r2"),
        "sourceERCollectionId": "august_14_81",
        "destinationERCollectionId": "august_14_8",
    }
    await put_grants(client, alice, "august_14_81", bob="readwrite")
    response = await post_items(client, bob, "relationships", "august_14_81", [item])
    assert response.status == 403
    assert (await response.json())["status"] == {
        "message": "ercollectionid 'august_14_8' is not registered or the caller has no access to it",
        "code": "403",
    }
    assert await services.pool.fetchval("SELECT count(*) FROM status_logs WHERE item_id = 'x'") == 0

    await put_grants(client, alice, "august_14_8", bob="readonly")
    response = await post_items(client, bob, "relationships", "august_14_81", [item])
    assert response.status == 207
    assert len((await response.json())["data"]["responses"]["success"]) == 1
    # Read access to the source collection is not enough to write into it.
    response = await post_items(client, bob, "relationships", "august_14_8", [item])
    assert response.status == 403
    assert "needs 'readwrite'" in (await response.json())["status"]["message"]
