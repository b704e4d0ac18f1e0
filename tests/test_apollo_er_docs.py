"""Every page of the Apollo docs' erservice/ (file import aside), replayed: each page's request
with its ids adapted, asserting the documented status and response shape, and the documented
error paths. docs/apollo-compatibility.md lists the differences these tests pin down."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import (
    DOCS,
    ENTITIES,
    GEO_BUILDINGS,
    NS,
    RELATIONSHIPS,
    SQUARE,
    doc_entity,
    doc_relationship,
    docs_headers,
    docs_world,
    point,
    polygon,
)
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, query_string, register, upsert_ok

ENVELOPE = {"status", "transactionId", "paging", "data"}


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    body = await response.json()
    assert response.status == status, body
    assert set(body) == ENVELOPE and body["status"]["code"] == str(status)
    return body


async def world(client: TestClient, services: Services, make_token: TokenFactory) -> str:
    token = await make_token("alice", *ALL_SCOPES)
    await docs_world(client, services.pool, token)
    return token


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


# getEntities, getEntityById, getAllEntityOfType


async def test_get_entities(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        "/apollo/er/entities?v=1.1", headers=docs_headers(token, PageSize="100")
    )
    body = await ok(response)
    assert body["paging"] == {"totalCount": len(ENTITIES), "continuationToken": None}
    floor = next(item for item in body["data"] if item["id"] == "JCI-507-B1-F1")
    assert floor == {
        **ENTITIES[1],
        "brickEntityType": f"{NS}__Location",
        "brickEntitySubType": f"{NS}__Floor",
        "brickEntityName": "Floor",
        "isActive": True,
    }
    response = await client.get("/apollo/er/entities", headers=docs_headers(token, PageSize="2"))
    first = await ok(response)
    assert len(first["data"]) == 2 and first["paging"]["continuationToken"]


async def test_get_entity_by_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        "/apollo/er/entities/JCI-507-B1-F1?v=1.1", headers=docs_headers(token)
    )
    [item] = (await ok(response))["data"]
    assert item["id"] == "JCI-507-B1-F1" and item["isActive"] is True
    response = await client.get(
        "/apollo/er/entities/JCI-507-B1-F1?includeSystemData=true", headers=docs_headers(token)
    )
    [item] = (await ok(response))["data"]
    system = item["sysData"]
    assert system["sysERCollectionId"] == DOCS and system["sysEntityVersion"] == 1
    assert system["sysRequestorId"] == "alice" and system["sysCorrelationId"]
    assert len(system["sysTimestamp"]) == len("20180403T13:17:57.637")
    assert (await client.get("/apollo/er/entities/nope", headers=docs_headers(token))).status == 404


async def test_get_all_entity_of_type(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        f"/apollo/er/entitytypes/{NS}__Floor/entities?v=1.1",
        headers=docs_headers(token, PageSize="100"),
    )
    body = await ok(response)
    assert [item["id"] for item in body["data"]] == ["JCI-507-B1-F1", "JCI-507-B1-F2"]
    assert body["paging"] == {"totalCount": 2, "continuationToken": None}


# getRelationships, getRelationsById, getAllRelationOfType


async def test_get_relationships(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        "/apollo/er/relationships?v=1.1", headers=docs_headers(token, PageSize="100")
    )
    body = await ok(response)
    assert body["paging"]["totalCount"] == len(RELATIONSHIPS)
    for item in body["data"]:
        assert item["sourceERCollectionId"] == item["destinationERCollectionId"] == DOCS
        assert item["isActive"] is True
    has_part = next(item for item in body["data"] if item["id"] == RELATIONSHIPS[0]["id"])
    assert {k: v for k, v in has_part.items() if k.startswith("brick")} == {
        "brickRelationshipType": f"{NS}__hasPart",
        "brickRelationshipName": "hasPart",
        "brickSourceEntityType": f"{NS}__Location",
        "brickSourceEntitySubType": f"{NS}__Building",
        "brickDestinationEntityType": f"{NS}__Location",
        "brickDestinationEntitySubType": f"{NS}__Floor",
    }


async def test_get_relations_by_id_both_urls(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    wanted = "JCI-507-B1-hasPart-JCI-507-B1-F1"
    for path in (
        f"/apollo/er/relationships/{wanted}?v=1.1",
        f"/apollo/er/relationshiptypes/{NS}__hasPart_Location_Location/relationships/{wanted}",
    ):
        response = await client.get(path, headers=docs_headers(token, PageSize="100"))
        [item] = (await ok(response))["data"]
        assert (
            item["id"] == wanted and item["relationshipName"] == "JCI-507-B1 hasPart JCI-507-B1-F1"
        )
    other_type = (
        f"/apollo/er/relationshiptypes/{NS}__isPartOf_Location_Location/relationships/{wanted}"
    )
    assert (await client.get(other_type, headers=docs_headers(token))).status == 404


async def test_get_all_relation_of_type(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        f"/apollo/er/relationshiptypes/{NS}__hasPart_Location_Location/relationships?v=1.1",
        headers=docs_headers(token, PageSize="100"),
    )
    body = await ok(response)
    assert body["paging"] == {"totalCount": 2, "continuationToken": None}
    assert {item["relationshipType"] for item in body["data"]} == {
        f"{NS}__hasPart_Location_Location"
    }


# getAllVerEntityById, getAllVerRelationsById


async def test_get_all_versions_of_an_entity_and_a_relationship(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    renamed = {**ENTITIES[3], "entityName": "Basement 1 Plant room"}
    await upsert_ok(client, token, "entities", DOCS, [renamed])
    response = await client.get(
        f"/api/entities/{renamed['id']}/versions", headers=docs_headers(token)
    )
    assert response.status == 200
    versions = await response.json()  # the page's answer: a bare list
    assert [v["entityName"] for v in versions] == [ENTITIES[3]["entityName"], renamed["entityName"]]
    assert [v["sysData"]["sysEntityVersion"] for v in versions] == [1, 2]
    relationship = {**RELATIONSHIPS[3], "relationshipName": "renamed"}
    await upsert_ok(client, token, "relationships", DOCS, [relationship])
    response = await client.get(
        f"/apollo/er/relationships/{relationship['id']}/versions", headers=docs_headers(token)
    )
    body = await ok(response)
    assert [v["sysData"]["sysRelationshipVersion"] for v in body["data"]] == [1, 2]
    assert body["data"][1]["sysData"]["sysRelationshipType"] == relationship["relationshipType"]
    missing = await client.get("/api/relationships/nope/versions", headers=docs_headers(token))
    assert missing.status == 404 and set(await missing.json()) == ENVELOPE


# getCountByERCollection


async def test_get_count_by_er_collection(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    response = await client.get(
        f"/apollo/er/ercollections/{DOCS}/stats?v=1.1", headers=bearer(token)
    )
    [stats] = (await ok(response))["data"]
    assert stats["Summary"] == {
        "Entities": 5,
        "Relationships": 5,
        "Assets": 0,
        "Spaces": 4,
        "CrossCollectionRelationships": 0,
    }
    assert stats["Entities"] == {
        f"{NS}__Building": 1,
        f"{NS}__Device": 1,
        f"{NS}__Floor": 2,
        f"{NS}__Room": 1,
    }
    assert stats["Relationships"][f"{NS}__hasPart_Location_Location"] == 2
    response = await client.get("/apollo/er/ercollections/nope/stats", headers=bearer(token))
    assert response.status == 403


# getEntities examples 2 to 5: version 1.2 entities with labels and GeoJSON.


async def filtered(client: TestClient, token: str, query: str) -> list[str]:
    response = await client.get(
        f"/apollo/er/entities?{query}&v=1.2", headers=docs_headers(token, PageSize="100")
    )
    return [item["id"] for item in (await ok(response))["data"]]


async def test_get_entities_filters(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    await upsert_ok(client, token, "entities", DOCS, GEO_BUILDINGS)
    labels = "labels/any(d:d eq 'BRICK_0_4__Building') or labels/any(d:d eq 'BRICK_0_4__Point')"
    assert await filtered(client, token, "$filter=" + quote(labels)) == [
        "TestEntity_8989",
        "TestEntity_8992",
    ]
    both = "labels/any(d:d eq 'BRICK_0_4__Building') and labels/any(d:d eq 'BRICK_0_4__Point')"
    assert await filtered(client, token, "$filter=" + quote(both)) == []
    exact = "geolocation eq Point((32, -4.7))"
    assert await filtered(client, token, "$filter=" + quote(exact)) == ["TestEntity_8989"]
    inside = "intersects(geoBoundary, Point((31.9, -4.8)))"
    assert await filtered(client, token, "$filter=" + quote(inside)) == [
        "TestEntity_8989",
        "TestEntity_8990",
    ]
    within = "intersects(geoLocation, Polygon((31.8,-5),( 32,-5),(32,-4.7),(31.8,-4.7),(31.8,-5)))"
    assert await filtered(client, token, "$filter=" + quote(within)) == [
        "TestEntity_8989",
        "TestEntity_8990",
    ]
    nearest = await filtered(
        client, token, "$orderby=" + quote(" distanceto (geoLocation, Point((31.8,-5)))")
    )
    # Nearest first; entities without a geoLocation come last.
    assert nearest[:2] == ["TestEntity_8990", "TestEntity_8989"]
    assert set(nearest[2:4]) == {"TestEntity_8991", "TestEntity_8992"}
    both = "$filter=" + quote("not labels/any(d:d eq 'BRICK_0_4__Point') and " + inside)
    both += "&$orderby=" + quote("distanceto(geoLocation, Point((31.8,-5))) desc")
    assert await filtered(client, token, both) == ["TestEntity_8989", "TestEntity_8990"]
    response = await client.get("/apollo/er/entities/TestEntity_8989", headers=docs_headers(token))
    [item] = (await ok(response))["data"]
    assert item["labels"] == GEO_BUILDINGS[0]["labels"]


async def test_distance_order_pages_with_the_token(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    await upsert_ok(client, token, "entities", DOCS, GEO_BUILDINGS)
    order = "$orderby=" + quote("distanceto(geoLocation, Point((31.8,-5)))")
    seen, continuation = [], None
    while True:
        headers = docs_headers(token, PageSize="3")
        if continuation:
            headers["continuationToken"] = continuation
        body = await ok(await client.get(f"/apollo/er/entities?{order}", headers=headers))
        seen += [item["id"] for item in body["data"]]
        continuation = body["paging"]["continuationToken"]
        if continuation is None:
            break
    assert len(seen) == len(set(seen)) == len(ENTITIES) + len(GEO_BUILDINGS)
    assert seen[:2] == ["TestEntity_8990", "TestEntity_8989"]
    # A token is bound to its query: replayed without the $orderby it is refused.
    first = await ok(
        await client.get(f"/apollo/er/entities?{order}", headers=docs_headers(token, PageSize="3"))
    )
    headers = docs_headers(token, continuationToken=first["paging"]["continuationToken"])
    assert (await client.get("/apollo/er/entities", headers=headers)).status == 400


async def test_unsupported_filters_are_a_400_naming_them(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    headers = docs_headers(token)
    for query, named in (
        ("$filter=" + quote("entityName eq 'x'"), "entityName"),
        ("$filter=" + quote("labels/any(d:d eq 'x') xor true"), "xor"),
        ("$filter=" + quote("geolocation eq Point((1, 2)"), "ends"),
        ("$filter=" + quote("(" * 40 + "labels/any(d:d eq 'x')" + ")" * 40), "nested"),
        ("$top=5", "$top"),
        ("$orderby=" + quote("entityName"), "entityName"),
        ("$filter=", "$filter"),
    ):
        response = await client.get(f"/apollo/er/entities?{query}", headers=headers)
        body = await response.json()
        assert response.status == 400, (query, body)
        assert named in body["status"]["message"], (query, body)
    response = await client.get(
        "/apollo/er/relationships?$filter=" + quote("labels/any(d:d eq 'x')"), headers=headers
    )
    assert (
        response.status == 400 and "relationships" in (await response.json())["status"]["message"]
    )
    for size in ("0", "1001", "+5", "5.0"):
        response = await client.get("/apollo/er/entities", headers={**headers, "PageSize": size})
        assert response.status == 400, size
    for size in ("+5", " 5", "\u0665"):  # the same rule for the size parameter
        response = await client.get(f"/apollo/er/entities?size={quote(size)}", headers=headers)
        assert response.status == 400, size


async def test_read_error_paths(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    no_header = {**bearer(token)}
    assert (await client.get("/apollo/er/entities", headers=no_header)).status == 400
    elsewhere = docs_headers(token, ercollectionid="not-registered")
    for path in (
        "/apollo/er/entities",
        f"/apollo/er/entitytypes/{NS}__Floor/entities",
        "/apollo/er/relationships/x",
        "/api/entities/x/versions",
    ):
        response = await client.get(path, headers=elsewhere)
        assert response.status == 403, path
        assert set(await response.json()) == ENVELOPE
    reader = await make_token("bob", "apollo_write")
    assert (await client.get("/apollo/er/entities", headers=docs_headers(reader))).status == 403


async def test_trackers_of_the_docs_pages_resolve(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    body = await upsert_ok(client, token, "entities", DOCS, [ENTITIES[0]])
    tracker = body["data"]["responses"]["success"][0]["tracker"]
    response = await client.get(query_string(tracker), headers=bearer(token))
    [record] = (await ok(response))["data"]
    assert record["state"] == "Completed" and record["payload"]["id"] == ENTITIES[0]["id"]


async def test_malformed_labels_and_geometry_fail_their_item(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    cases = {
        "labels-text": ({"labels": "BRICK_0_4__Building"}, "labels must be a list"),
        "labels-numbers": ({"labels": [1, 2]}, "labels must be a list"),
        "location-polygon": ({"geoLocation": polygon(*SQUARE)}, "geoLocation must be GeoJSON"),
        "boundary-point": ({"geoBoundary": point(1, 2)}, "geoBoundary must be GeoJSON"),
        "boundary-text": (
            {"geoBoundary": {"type": "Polygon", "coordinates": "coordinates"}},
            "geoBoundary must be GeoJSON",
        ),
    }
    items = [doc_entity(i, "Building", i, **fields) for i, (fields, _) in cases.items()]
    items.append(
        doc_entity(
            "bare-point", "Building", "b", geoLocation={"type": "Point", "coordinates": [1, 2]}
        )
    )
    response = await client.post(
        "/apollo/er/entities", json=items, headers=docs_headers(token, **{"async": "false"})
    )
    body = await ok(response, 207)
    reasons = {f["id"]: f["message"] for f in body["data"]["responses"]["failure"]}
    assert list(reasons) == list(cases)
    for item_id, (_, expected) in cases.items():
        assert expected in reasons[item_id], (item_id, reasons[item_id])
    exact = "geolocation eq Point((1, 2))"
    assert await filtered(client, token, "$filter=" + quote(exact)) == ["bare-point"]
