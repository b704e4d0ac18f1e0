"""Entity batches: derived fields, per-item validation, limits, full replace, reads."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections, upsert_ok

HERE = "august_14_81"


def in_collection(token: str) -> dict[str, str]:
    return {**bearer(token), "ercollectionid": HERE}


async def test_entity_is_stored_with_the_fields_the_server_derives(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    item = entity(ns, "ahu-1", "AHU", customData={"floor": 3})
    body = await upsert_ok(client, token, "entities", HERE, [item])
    assert body["status"]["message"] == "Total number of Entities Upserted:  1."
    [success] = body["data"]["responses"]["success"]
    assert success["message"] == "Entity upserted successfully"
    assert success["tracker"].endswith(f"?entityid=ahu-1&transactionid={body['transactionId']}")

    response = await client.get("/apollo/er/entities/ahu-1", headers=in_collection(token))
    # The docs: a one-element list, every item flagged isActive.
    assert (await response.json())["data"] == [
        {
            **item,
            "brickEntityType": "BRICK_0_4__Equipment",
            "brickEntitySubType": "BRICK_0_4__AHU",
            "brickEntityName": "AHU",
            "isActive": True,
        }
    ]


async def test_invalid_entities_fail_one_by_one_and_change_nothing(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await upsert_ok(client, token, "entities", HERE, [entity(ns, "kept", "AHU")])
    nameless = entity(ns, "nameless", "Fan")
    del nameless["entityName"]
    cases = {
        "nameless": (nameless, "'entityName' is a required property"),
        "extra": (entity(ns, "extra", "Fan", colour="red"), "Additional properties"),
        "typo": (entity(ns, "typo", "Fann"), "entityType 'BRICK_0_4__Fann' is not an entity type"),
        "no-type": ({"id": "no-type", "entityName": "x"}, "entityType is required"),
        "bad-derived": (
            entity(ns, "bad-derived", "Fan", brickEntityType="BRICK_0_4__Point"),
            "brickEntityType is derived by the server as 'BRICK_0_4__Equipment'",
        ),
        "kept": (entity(ns, "kept", "Fan"), "entityType cannot change after creation"),
        "bad-custom": (entity(ns, "bad-custom", "Fan", customData=[1]), "is not of type 'object'"),
    }
    good = entity(ns, "good", "Room", brickEntitySubType="BRICK_0_4__Room")
    items = [item for item, _ in cases.values()] + [good]
    response = await post_items(client, token, "entities", HERE, items)
    body = await response.json()
    assert response.status == 207
    assert [s["id"] for s in body["data"]["responses"]["success"]] == ["good"]
    reasons = {f["id"]: f["message"] for f in body["data"]["responses"]["failure"]}
    assert list(reasons) == list(cases)
    for item_id, (_, expected) in cases.items():
        assert expected in reasons[item_id], (item_id, reasons[item_id])
    rows = await services.pool.fetch("SELECT id, entity_type FROM er_entities ORDER BY id")
    assert [(r["id"], r["entity_type"]) for r in rows] == [
        ("good", "BRICK_0_4__Room"),
        ("kept", "BRICK_0_4__AHU"),
    ]
    states = await services.pool.fetch(
        "SELECT state, count(*) FROM status_logs WHERE transaction_id = $1 GROUP BY state",
        body["transactionId"],
    )
    assert {r["state"]: r["count"] for r in states} == {"Completed": 1, "Failed": len(cases)}


async def test_upsert_replaces_the_whole_object(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await upsert_ok(client, token, "entities", HERE, [entity(ns, "e", "AHU", customData={"a": 1})])
    await upsert_ok(
        client, token, "entities", HERE, [{**entity(ns, "e", "AHU"), "entityName": "n"}]
    )
    response = await client.get("/apollo/er/entities/e", headers=in_collection(token))
    [stored] = (await response.json())["data"]
    assert stored["entityName"] == "n" and "customData" not in stored
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 1


async def test_batch_level_refusals(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    many = [entity(ns, f"e{i}", "AHU") for i in range(101)]
    response = await post_items(client, token, "entities", HERE, many)
    assert response.status == 413
    assert "At most 100 entities" in (await response.json())["status"]["message"]
    twice = [entity(ns, "a", "AHU"), entity(ns, "b", "AHU"), entity(ns, "a", "Fan")]
    response = await post_items(client, token, "entities", HERE, twice)
    assert response.status == 400
    assert (await response.json())["status"]["message"].endswith("more than once in the batch: a")
    for body, reason in (
        ("x", "JSON array"),
        ([], "lists no entities"),
        ([{"entityName": "no id"}], "Item 0 must be an object whose 'id'"),
    ):
        response = await post_items(client, token, "entities", HERE, body)
        assert response.status == 400 and reason in (await response.json())["status"]["message"]
    response = await client.post(
        "/apollo/er/entities", json=[entity(ns, "a", "AHU")], headers=bearer(token)
    )
    assert response.status == 400
    headers = {**in_collection(token), "async": "maybe"}
    response = await client.post(
        "/apollo/er/entities", json=[entity(ns, "a", "AHU")], headers=headers
    )
    assert response.status == 400
    # Nothing was staged or logged for any refused batch.
    assert await services.pool.fetchval("SELECT count(*) FROM status_logs") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0


async def test_100_entities_is_the_synchronous_maximum(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    body = await upsert_ok(
        client, token, "entities", HERE, [entity(ns, f"e{i:03}", "AHU") for i in range(100)]
    )
    assert [s["id"] for s in body["data"]["responses"]["success"]] == [
        f"e{i:03}" for i in range(100)
    ]
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0


async def test_lists_page_by_id_and_filter_by_type(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, f"e{i}", "AHU" if i % 2 else "Fan") for i in range(5)]
    await upsert_ok(client, token, "entities", HERE, items)
    seen, continuation = [], None
    while True:
        headers = in_collection(token) | (
            {"continuationToken": continuation} if continuation else {}
        )
        response = await client.get("/apollo/er/entities?size=2", headers=headers)
        body = await response.json()
        assert response.status == 200 and body["paging"]["totalCount"] == 5
        seen += [item["id"] for item in body["data"]]
        continuation = body["paging"]["continuationToken"]
        if continuation is None:
            break
    assert seen == ["e0", "e1", "e2", "e3", "e4"]
    response = await client.get(
        f"/apollo/er/entities?entityType={ns}__AHU", headers=in_collection(token)
    )
    assert [item["id"] for item in (await response.json())["data"]] == ["e1", "e3"]
    bad_token = {**in_collection(token), "continuationToken": "nonsense!"}
    assert (await client.get("/apollo/er/entities", headers=bad_token)).status == 400
    assert (
        await client.get("/apollo/er/entities?size=0", headers=in_collection(token))
    ).status == 400
    missing = await client.get("/apollo/er/entities/nope", headers=in_collection(token))
    assert missing.status == 404
    stats = await client.get(f"/apollo/er/ercollections/{HERE}/stats", headers=bearer(token))
    [counts] = (await stats.json())["data"]
    assert counts["Entities"] == {f"{ns}__AHU": 2, f"{ns}__Fan": 3}


async def test_text_postgres_cannot_store_is_a_400_not_a_500(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    nul = entity(ns, "e", "AHU", entityName="a\u0000b")
    assert (await post_items(client, token, "entities", HERE, [nul])).status == 400
    lone = entity(ns, "e", "AHU", entityName="\ud800")
    assert (await post_items(client, token, "entities", HERE, [lone])).status == 400
    far = {"id": "r", "destinationERCollectionId": "x\u0000"}
    assert (await post_items(client, token, "relationships", HERE, [far])).status == 403
    assert (await client.get("/apollo/er/entities/%00", headers=in_collection(token))).status == 400
    logs = await client.get("/apollo/status/logs?entityId=%00", headers=bearer(token))
    assert logs.status == 400
    grants = {
        "grants": [
            {"principal": "alice", "role": "owner"},
            {"principal": "b\u0000", "role": "readonly"},
        ]
    }
    acl = await client.put(
        f"/apollo/er/ercollections/{HERE}/acl", json=grants, headers=bearer(token)
    )
    assert acl.status == 400
