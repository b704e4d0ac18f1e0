"""Replays the Apollo ontology pages (../shared/apollo-docs/ontology/) against Brick 1.4: the
pages' BRICK_0_4 namespace is a collection named Brick_0_4 synced to release 1.4."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, register
from tests.schema_docs_helpers import post_schema
from tests.schema_helpers import create_collection, sync

NS = "BRICK_0_4__"
PAGE_BODY = [
    {
        "id": "6Dec-customer1",
        "name": "6Dec-customer1",
        "address": "milwaukee",
        "entitytype": "customer",
        "entitytypeversion": "1",
    }
]
# The page's example type is a Brick 0.4 class; Brick 1.4 has no such class, so the test adds
# it as the page presumes it: an air-flow sensor (docs/apollo-ontology.md).
PAGE_TYPE = f"{NS}AHU_Discharge_Fan_Air_Flow_Sensor"


@pytest.fixture
async def writer(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> dict[str, str]:
    headers = bearer(await make_token("alice", *ALL_SCOPES))
    await create_collection(client, headers, "Brick_0_4", release="1.4")
    await sync(client, headers, "Brick_0_4")
    await sync(client, headers, "Brick_0_4", "relationshiptypes")
    return headers


async def post_graph(client: TestClient, headers: dict[str, str], kind: str) -> dict[str, Any]:
    response = await client.post(
        f"/apollo/ontology/{kind}",
        json=PAGE_BODY,
        headers={**headers, "schemaCollection": "Brick_0_4"},
    )
    accepted = await response.json()
    assert response.status == 202, accepted
    assert response.headers["Location"] == accepted["data"]["statusUrl"]
    assert "transactionid=" in accepted["data"]["tracker"]
    return dict(accepted["data"])


async def finished(client: TestClient, headers: dict[str, str], token: str) -> dict[str, Any]:
    for _ in range(500):
        response = await client.get(f"/async/get/{token}", headers=headers)
        if response.status != 202:
            assert response.status == 200, await response.text()
            return dict(await response.json())
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not finish")


async def test_post_all_entity_and_relationship_types(
    client: TestClient, writer: dict[str, str]
) -> None:
    for kind, count in (("entitytypes", 1430), ("relationshiptypes", 54)):
        accepted = await post_graph(client, writer, kind)
        result = await finished(client, writer, accepted["token"])
        assert list(result) == ["result", "message", "errorInfo"]
        assert result["result"] == 1
        assert result["message"] == f"Total number of Ontologies Posted:  {count}."
        [error] = result["errorInfo"]  # the page's customer is no type of the collection
        assert error["id"] == "6Dec-customer1" and "customer" in error["message"]


async def test_get_ontology_object_by_entity_type_is_inherited(
    client: TestClient, writer: dict[str, str]
) -> None:
    air_flow = {
        "type": "object",
        "title": PAGE_TYPE,
        "$schema": "http://json-schema.org/draft-06/schema#",
        "required": ["id"],
        "schemaMetadata": {"entityIsSubClassOf": [f"{NS}Air_Flow_Sensor"]},
        "x-brick": {"ancestors": ["Air_Flow_Sensor", "Flow_Sensor", "Sensor", "Point"],
                    "topClass": "Point"},
        "properties": {"id": {"type": "string"}},
    }  # fmt: skip
    created = await post_schema(client, writer, "entitytypes", air_flow, "Brick_0_4")
    assert created.status in (200, 201), await created.text()
    path = f"/apollo/ontologygraph/entityTypes/{PAGE_TYPE}($filter=destEntityType)"
    response = await client.get(path, headers={**writer, "Content-Type": "application/json"})
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == {"message": "OK", "code": "200"}
    by_object = {next(k for k in item if k.startswith(NS)): item for item in body["data"]}
    located = by_object[f"{NS}hasLocation_Point_Location"]
    assert located["id"] == f"{NS}Point"
    assert located["brickMetadata"] == {
        "brickEntityType": f"{NS}Point",
        "brickEntitySubType": f"{NS}Point",
        "brickEntityName": "Point",
    }
    relationship = located[f"{NS}hasLocation_Point_Location"]
    assert relationship["brickMetadata"] == {
        "brickInverseRelationshipType": f"{NS}isLocationOf",
        "inverseRelationshipType": f"{NS}isLocationOf_Location_Point",
        "brickSourceEntityType": f"{NS}Point",
        "brickRelationshipType": f"{NS}hasLocation",
        "brickDestinationEntityType": f"{NS}Location",
        "brickRelationshipName": "hasLocation",
        "brickInverseRelationshipName": "isLocationOf",
    }
    assert relationship["brickRelationshipType"] == f"{NS}hasLocation"
    assert relationship[f"{NS}Location"]["id"] == f"{NS}Location"
    assert all(item["id"] == f"{NS}Point" for item in body["data"])
    incoming = await client.get(
        f"/apollo/ontologygraph/entityTypes/{NS}AHU($filter=sourceEntityType)", headers=writer
    )
    objects = {k for item in (await incoming.json())["data"] for k in item if k.startswith(NS)}
    assert f"{NS}feeds_Equipment_Equipment" in objects  # ends at Equipment, an AHU's ancestor
    assert f"{NS}hasPoint_Equipment_Point" not in objects


async def test_get_all_relations_of_a_relationship_type(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert (await register(client, writer["Authorization"][7:], "testcollection", "Brick_0_4")).ok
    response = await client.get(
        f"/apollo/ontologygraph/relationshipTypes/{NS}hasPart_Equipment_Equipment",
        headers={**writer, "ercollectionid": "testcollection"},
    )
    body = await response.json()
    assert response.status == 200, body
    objects = [next(k for k in item if k.startswith(NS)) for item in body["data"]]
    assert objects == sorted(objects) and all("__hasPart_" in o for o in objects)
    assert f"{NS}hasPart_Location_Location" in objects and len(objects) == 11
    first = body["data"][0][objects[0]]["brickMetadata"]
    assert first["brickInverseRelationshipName"] == "isPartOf"


async def test_errors(client: TestClient, writer: dict[str, str], make_token: TokenFactory) -> None:
    graph = "/apollo/ontologygraph/entityTypes"
    bad_filter = await client.get(f"{graph}/{NS}AHU($filter=sideways)", headers=writer)
    assert bad_filter.status == 400
    assert (await client.get(f"{graph}/{NS}No_Such_Type", headers=writer)).status == 404
    assert (await client.get(f"{graph}/{NS}AHU")).status == 401
    no_header = await client.post("/apollo/ontology/entitytypes", json=[], headers=writer)
    assert no_header.status == 400
    unknown = {**writer, "schemaCollection": "Nope"}
    assert (
        await client.post("/apollo/ontology/entitytypes", json=[], headers=unknown)
    ).status == 404
    bob = bearer(await make_token("bob", *ALL_SCOPES))
    foreign = {**bob, "schemaCollection": "Brick_0_4"}
    assert (
        await client.post("/apollo/ontology/entitytypes", json=[], headers=foreign)
    ).status == 403
    reader = bearer(await make_token("carol", "apollo_read"))
    writes = {**reader, "schemaCollection": "Brick_0_4"}
    assert (
        await client.post("/apollo/ontology/entitytypes", json=[], headers=writes)
    ).status == 403
    no_er = await client.get(
        f"/apollo/ontologygraph/relationshipTypes/{NS}feeds_Equipment_Equipment", headers=writer
    )
    assert no_er.status == 400
