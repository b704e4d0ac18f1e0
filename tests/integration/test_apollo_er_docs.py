"""The Apollo docs' erservice/ read pages replayed: each page's request with its ids adapted,
its documented status and shape, and the documented error paths (writes and filters have
modules of their own). docs/apollo-compatibility.md lists the differences pinned down here."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import (
    DOCS,
    ENTITIES,
    ENVELOPE,
    NS,
    RELATIONSHIPS,
    docs_headers,
    ok,
    world,
)
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import query_string, upsert_ok

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
    of_type = f"/apollo/er/relationshiptypes/{relationship['relationshipType']}/relationships"
    response = await client.get(
        f"{of_type}/{relationship['id']}/versions", headers=docs_headers(token)
    )
    assert len((await ok(response))["data"]) == 2
    wrong_type = f"/apollo/er/entitytypes/{NS}__Room/entities/{ENTITIES[1]['id']}/versions"
    assert (await client.get(wrong_type, headers=docs_headers(token))).status == 404
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
