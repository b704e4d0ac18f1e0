"""ER deletes over HTTP: an entity still referenced is refused with the referencing ids, or
cascades; each deleted item gets a Delete status-log record and a Deleted change-feed event."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    entity,
    put_grants,
    query_string,
    register,
    relationship,
    two_collections,
    upsert_ok,
)


async def seeded(client: TestClient, services: Services, token: str) -> str:
    """ahu feeds fan (a), fan feeds ahu2 in the other collection (b); returns the namespace."""
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    await upsert_ok(
        client, token, "entities", "c1", [entity(ns, "ahu", "AHU"), entity(ns, "fan", "Fan")]
    )
    await upsert_ok(client, token, "entities", "c2", [entity(ns, "ahu2", "AHU")])
    await upsert_ok(client, token, "relationships", "c1", [
        relationship(ns, "a", "feeds_Equipment_Equipment", "ahu", "fan"),
        relationship(ns, "b", "feeds_Equipment_Equipment", "fan", "ahu2",
                     sourceERCollectionId="c1", destinationERCollectionId="c2"),
    ])  # fmt: skip
    return ns


def headers(token: str, collection: str) -> dict[str, str]:
    return {**bearer(token), "ercollectionid": collection}


async def test_a_referenced_entity_is_refused_with_the_referencing_ids(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await seeded(client, services, token)
    response = await client.delete("/apollo/er/entities/fan", headers=headers(token, "c1"))
    assert response.status == 409
    message = (await response.json())["status"]["message"]
    assert "referenced by 2 relationship(s): a, b" in message and "cascade=true" in message
    # The destination end counts too, from another collection.
    response = await client.delete("/apollo/er/entities/ahu2", headers=headers(token, "c2"))
    assert response.status == 409
    assert "c1/b" in (await response.json())["status"]["message"]
    read = await client.get("/apollo/er/entities/fan", headers=headers(token, "c1"))
    assert read.status == 200


async def test_cascade_deletes_the_relationships_and_logs_each_item(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await seeded(client, services, token)
    response = await client.delete(
        "/apollo/er/entities/fan?cascade=true", headers=headers(token, "c1")
    )
    body = await response.json()
    assert response.status == 200, body
    success = body["data"]["responses"]["success"]
    assert [(s["requestObject"], s["id"]) for s in success] == [
        ("Relationship", "a"), ("Relationship", "b"), ("Entity", "fan"),
    ]  # fmt: skip
    for path in ("entities/fan", "relationships/a", "relationships/b"):
        read = await client.get(f"/apollo/er/{path}", headers=headers(token, "c1"))
        assert read.status == 404, path
    logs = await client.get(query_string(success[0]["tracker"]), headers=bearer(token))
    records = (await logs.json())["data"]
    assert {(r["requestAction"], r["state"]) for r in records} == {("Delete", "Completed")}
    assert sorted(r["serviceData"].get("entityId") or r["serviceData"]["relationshipId"]
                  for r in records) == ["a", "b", "fan"]  # fmt: skip
    summary = await client.get(f"/apollo/status/{body['transactionId']}", headers=bearer(token))
    assert (await summary.json())["data"]["requestAction"] == "Delete"
    feed = await client.get("/apollo/changefeed/logs", headers=headers(token, "c1"))
    deleted = [e for e in (await feed.json())["data"] if e["notificationType"] == "Deleted"]
    assert {(e["entityId"], e["relationshipId"]) for e in deleted} == {
        (None, "a"), (None, "b"), ("fan", None),
    }  # fmt: skip
    assert {e["transactionId"] for e in deleted} == {body["transactionId"]}


async def test_relationship_delete_and_its_refusals(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await seeded(client, services, token)
    bob = await make_token("bob", *ALL_SCOPES)
    await put_grants(client, token, "c1", bob="readonly")
    response = await client.delete("/apollo/er/relationships/a", headers=headers(bob, "c1"))
    assert response.status == 403
    response = await client.delete("/apollo/er/relationships/a", headers=headers(token, "c1"))
    assert response.status == 200
    response = await client.delete("/apollo/er/relationships/a", headers=headers(token, "c1"))
    assert response.status == 404
    # With the relationship gone, only 'b' still references the fan.
    response = await client.delete("/apollo/er/entities/fan", headers=headers(token, "c1"))
    assert "referenced by 1 relationship(s): b" in (await response.json())["status"]["message"]
    response = await client.delete("/apollo/er/entities/ahu", headers=headers(token, "c1"))
    assert response.status == 200
    response = await client.delete(
        "/apollo/er/entities/fan?cascade=maybe", headers=headers(token, "c1")
    )
    assert response.status == 400


async def test_a_former_readers_relationship_cannot_block_the_owners_delete(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    """Bob, once a reader of alice's c1, points a relationship of his own collection at her
    entity; his access ends. Her delete is not blocked by it, and shows her none of his ids."""
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await seeded(client, services, alice)
    response = await register(client, bob, "bobs", "Brick_0_4")
    assert response.status == 201, await response.text()
    await put_grants(client, alice, "c1", bob="readonly")
    await upsert_ok(client, bob, "entities", "bobs", [entity(ns, "bob_ahu", "AHU")])
    await upsert_ok(client, bob, "relationships", "bobs", [
        relationship(ns, "secret-rel", "feeds_Equipment_Equipment", "bob_ahu", "ahu",
                     sourceERCollectionId="bobs", destinationERCollectionId="c1"),
    ])  # fmt: skip
    await put_grants(client, alice, "c1")  # bob is no longer a reader

    refused = await client.delete("/apollo/er/entities/ahu", headers=headers(alice, "c1"))
    message = (await refused.json())["status"]["message"]
    assert refused.status == 409
    assert "referenced by 2 relationship(s): a and 1 in collections the caller cannot read" in (
        message
    )
    assert "secret" not in message and "bobs" not in message

    response = await client.delete(
        "/apollo/er/entities/ahu?cascade=true", headers=headers(alice, "c1")
    )
    body = await response.json()
    assert response.status == 200, body
    assert "secret" not in await response.text()
    assert [s["id"] for s in body["data"]["responses"]["success"]] == ["a", "ahu"]
    assert body["status"]["message"] == "Total number of Items Deleted:  3."
    gone = await client.get("/apollo/er/relationships/secret-rel", headers=headers(bob, "bobs"))
    assert gone.status == 404
    # Bob's collection tells him: a Deleted event in his feed, a Delete record he can read.
    feed = await client.get("/apollo/changefeed/logs", headers=headers(bob, "bobs"))
    events = (await feed.json())["data"]
    assert [e["relationshipId"] for e in events if e["notificationType"] == "Deleted"] == [
        "secret-rel"
    ]
    logs = await client.get(
        f"/apollo/status/logs?transactionId={body['transactionId']}", headers=bearer(bob)
    )
    records = (await logs.json())["data"]
    assert [r["serviceData"]["relationshipId"] for r in records] == ["secret-rel"]
    own = await client.get(
        f"/apollo/status/logs?transactionId={body['transactionId']}", headers=bearer(alice)
    )
    assert "secret" not in await own.text()
