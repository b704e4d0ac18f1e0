"""Type schemas: bulk writes, reads, versions, paged lists, tags, pairs, and the ER contract."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft6Validator

from shared.schemas.catalog import current_type_schemas
from shared.services import Services
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


def hand_made(type_id: str, **extension: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "title": type_id,
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "entityType", "entityName"],
        "properties": {
            "id": {"type": "string"},
            "entityType": {"type": "string"},
            "entityName": {"type": "string"},
            "brickEntityType": {"type": "string", "default": "SITE__Equipment"},
        },
    }
    if extension:
        schema["x-brick"] = extension
    return schema


async def post_schemas(
    client: TestClient,
    headers: dict[str, str],
    schema_type: str,
    body: Any,
    collection: str = "Site",
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"{API}/{schema_type}", json=body, headers={**headers, "schemaCollectionId": collection}
    )
    return response.status, await response.json()


@pytest.fixture
async def headers(client: TestClient, make_token: TokenFactory) -> dict[str, str]:
    admin = await admin_headers(make_token)
    await create_collection(client, admin, "Site")
    return admin


@pytest.fixture
async def synced(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> dict[str, str]:
    """Collection Acme synced (both types) from the small release acme 1.0."""
    admin = await admin_headers(make_token)
    await publish(client, admin, release("1.0"))
    await create_collection(client, admin, "Acme", releaseLine="acme")
    await sync(client, admin, "Acme", "entitytypes")
    await sync(client, admin, "Acme", "relationshiptypes")
    return admin


async def test_bulk_create_then_update_reports_inserted_updated_failed(
    client: TestClient, headers: dict[str, str]
) -> None:
    first = [hand_made("SITE__Pump", tags=["Pump"]), hand_made("SITE__Fan")]
    status, body = await post_schemas(client, headers, "entitytypes", first)
    assert status == 201
    assert body["status"] == {"message": "success", "code": "201"}
    result = body["data"]
    assert result["status"] == "success"
    assert result["reason"] == (
        "attempted '2' schemas: inserted '2' schemas, updated '0' schemas, '0' failed"
    )
    assert result["success"] == ["SITE__Pump", "SITE__Fan"]

    changed = hand_made("SITE__Pump", tags=["Pump", "Water"])
    broken = {"title": "SITE__Broken", "type": "object", "properties": {"name": {}}}
    status, body = await post_schemas(
        client, headers, "entitytypes", [changed, hand_made("SITE__Fan"), broken]
    )
    assert status == 206
    result = body["data"]
    assert result["status"] == "partial_success"
    assert result["reason"] == (
        "attempted '3' schemas: inserted '0' schemas, updated '1' schemas, '1' failed"
    )
    assert result["success"] == ["SITE__Pump"] and result["unchanged"] == ["SITE__Fan"]
    assert result["failed"] == ["SITE__Broken"]
    assert "id" in result["failures"][0]["reason"]

    latest = await client.get(
        f"{API}/entitytypes/SITE__Pump?includeSystemData=true", headers=headers
    )
    data = (await latest.json())["data"]
    assert data["schema"]["x-brick"]["tags"] == ["Pump", "Water"]
    assert data["sysData"]["version"] == 2 and data["sysData"]["tags"] == ["Pump", "Water"]
    first_version = await client.get(f"{API}/entitytypes/SITE__Pump/versions/1", headers=headers)
    assert (await first_version.json())["data"]["schema"]["x-brick"]["tags"] == ["Pump"]


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        (hand_made("OTHER__Pump"), "SITE__"),
        (hand_made("SITE__bad name"), "SITE__"),
        ({**hand_made("SITE__Pump"), "type": 12}, "draft-06"),
        ({**hand_made("SITE__Pump"), "type": "string"}, "describe an object"),
        ({**hand_made("SITE__Pump"), "x-brick": []}, "must be an object"),
        (hand_made("SITE__Pump", parents="Equipment"), "malformed"),
    ],
)
async def test_each_invalid_schema_is_a_failure_with_its_reason(
    client: TestClient, headers: dict[str, str], schema: Any, fragment: str
) -> None:
    status, body = await post_schemas(client, headers, "entitytypes", [schema])
    assert status == 422
    assert body["data"]["status"] == "failed"
    assert fragment in body["data"]["failures"][0]["reason"]


async def test_bulk_request_errors(
    client: TestClient, headers: dict[str, str], make_token: TokenFactory
) -> None:
    response = await client.post(f"{API}/entitytypes", json=[hand_made("SITE__A")], headers=headers)
    assert response.status == 400
    assert "schemaCollectionId" in (await response.json())["status"]["message"]
    status, _ = await post_schemas(client, headers, "entitytypes", [hand_made("X__A")], "Missing")
    assert status == 404
    status, _ = await post_schemas(client, headers, "entitytypes", {"not": "a list"})
    assert status == 400
    status, _ = await post_schemas(client, headers, "entitytypes", [])
    assert status == 400
    # A schema naming no type id misses the doc's mandatory field: nothing is written.
    for body in (["not an object"], [hand_made("SITE__A"), {"type": "object"}]):
        status, answer = await post_schemas(client, headers, "entitytypes", body)
        assert status == 400 and "sysEntityType" in answer["status"]["message"]
    assert (await client.get(f"{API}/entitytypes/SITE__A", headers=headers)).status == 404
    status, _ = await post_schemas(client, headers, "entitytypes", [{}] * 1001)
    assert status == 413
    reader = bearer(await make_token("bob", "apollo_read"))
    status, _ = await post_schemas(client, reader, "entitytypes", [hand_made("SITE__A")])
    assert status == 403


async def test_same_id_twice_or_across_schema_types_fails(
    client: TestClient, headers: dict[str, str]
) -> None:
    status, body = await post_schemas(
        client, headers, "entitytypes", [hand_made("SITE__A"), hand_made("SITE__A")]
    )
    assert body["data"]["failures"] == [
        {"id": "SITE__A", "reason": "the same type id appears twice in this request"}
    ]
    relationship = {
        "title": "SITE__A",
        "type": "object",
        "properties": {
            k: {"type": "string"}
            for k in ("id", "sourceEntityId", "destinationEntityId", "relationshipType")
        },
    }
    status, body = await post_schemas(client, headers, "relationshiptypes", [relationship])
    assert status == 422 and "entitytypes" in body["data"]["failures"][0]["reason"]


async def test_get_versions_and_delete(client: TestClient, headers: dict[str, str]) -> None:
    for tags in (["A"], ["B"], ["C"]):
        await post_schemas(client, headers, "entitytypes", [hand_made("SITE__Pump", tags=tags)])
    versions, pagings = await get_all(
        client, f"{API}/entitytypes/SITE__Pump/versions?includeSystemData=true", headers, size=2
    )
    assert [v["sysData"]["version"] for v in versions] == [1, 2, 3]
    assert [v["sysData"]["isCurrent"] for v in versions] == [False, False, True]
    assert pagings[0]["totalCount"] == 3 and len(pagings) == 2

    assert (
        await client.get(f"{API}/entitytypes/SITE__Pump/versions/9", headers=headers)
    ).status == 404
    assert (
        await client.get(f"{API}/entitytypes/SITE__Pump/versions/x", headers=headers)
    ).status == 400
    assert (await client.get(f"{API}/relationshiptypes/SITE__Pump", headers=headers)).status == 404
    assert (await client.get(f"{API}/entitytypes/SITE__Nope", headers=headers)).status == 404

    deleted = await client.delete(f"{API}/entitytypes/SITE__Pump", headers=headers)
    assert deleted.status == 200
    assert (await client.get(f"{API}/entitytypes/SITE__Pump", headers=headers)).status == 404
    assert (await client.delete(f"{API}/entitytypes/SITE__Pump", headers=headers)).status == 404
    # History stays readable, marked inactive.
    old = await client.get(
        f"{API}/entitytypes/SITE__Pump/versions/3?includeSystemData=true", headers=headers
    )
    assert (await old.json())["data"]["sysData"]["active"] is False
    # Posting it again brings it back as a new version.
    await post_schemas(client, headers, "entitytypes", [hand_made("SITE__Pump", tags=["C"])])
    back = await client.get(f"{API}/entitytypes/SITE__Pump?includeSystemData=true", headers=headers)
    assert (await back.json())["data"]["sysData"]["version"] == 4


async def test_collection_list_pages_and_tokens_cannot_be_forged(
    client: TestClient, headers: dict[str, str]
) -> None:
    await create_collection(client, headers, "Other")
    await post_schemas(
        client, headers, "entitytypes", [hand_made(f"SITE__T{i:02d}") for i in range(5)]
    )
    path = f"{API}/entitytypes/schemacollections/Site"
    listed, pagings = await get_all(client, path, headers, size=2)
    assert [item["schema"]["title"] for item in listed] == [f"SITE__T{i:02d}" for i in range(5)]
    assert "sysData" not in listed[0]
    assert [p["totalCount"] for p in pagings] == [5, 5, 5]

    first = await client.get(f"{path}?size=2", headers=headers)
    token = (await first.json())["paging"]["continuationToken"]
    payload, signature = token.split(".")
    for bad in (token[:-2] + "xy", "garbage", payload + "." + signature[::-1]):
        response = await client.get(path, headers={**headers, "continuationToken": bad})
        assert response.status == 400
    elsewhere = await client.get(
        f"{API}/entitytypes/schemacollections/Other",
        headers={**headers, "continuationToken": token},
    )
    assert elsewhere.status == 400
    assert "another query" in (await elsewhere.json())["status"]["message"]
    for size in ("0", "1001", "ten"):
        assert (await client.get(f"{path}?size={size}", headers=headers)).status == 400
    missing = await client.get(f"{API}/entitytypes/schemacollections/Nope", headers=headers)
    assert missing.status == 404


async def test_tag_query_returns_active_schemas_of_all_versions(
    client: TestClient, synced: dict[str, str]
) -> None:
    path = f"{API}/entitytypes/schemacollections/Acme/tags/Building"
    response = await client.get(path + "?includeSystemData=true", headers=synced)
    assert response.status == 200
    body = await response.json()
    assert [i["schema"]["title"] for i in body["data"]] == [
        "ACME__Building",
        "ACME__Building_Sensor",
    ]
    assert body["paging"] == {"totalCount": 2, "continuationToken": None}
    # Tags match case-insensitively; a new version of a tagged type adds a row (all versions).
    changed = release("1.1")
    changed["entitytypes"][6]["definition"] = "A whole building"
    await publish(client, synced, changed)
    await sync(client, synced, "Acme")
    listed, _ = await get_all(
        client, path.replace("Building", "building") + "?includeSystemData=true", synced, size=1
    )
    assert [(i["schema"]["title"], i["sysData"]["version"]) for i in listed] == [
        ("ACME__Building", 1),
        ("ACME__Building", 2),
        ("ACME__Building_Sensor", 1),
    ]
    # Deleted types drop out.
    await client.delete(f"{API}/entitytypes/ACME__Building_Sensor", headers=synced)
    listed, _ = await get_all(client, path, synced)
    assert {i["schema"]["title"] for i in listed} == {"ACME__Building"}


async def test_tag_query_errors(
    client: TestClient, synced: dict[str, str], make_token: TokenFactory
) -> None:
    unknown = await client.get(
        f"{API}/entitytypes/schemacollections/Acme/tags/Spaceship", headers=synced
    )
    assert unknown.status == 400
    assert "Unknown tag 'Spaceship'" in (await unknown.json())["status"]["message"]
    missing = await client.get(
        f"{API}/entitytypes/schemacollections/Nope/tags/Building", headers=synced
    )
    assert missing.status == 404
    writer = bearer(await make_token("bob", "apollo_write"))
    forbidden = await client.get(
        f"{API}/entitytypes/schemacollections/Acme/tags/Building", headers=writer
    )
    assert forbidden.status == 403


async def test_pairs_and_relationship_types_of_an_entity_type(
    client: TestClient, synced: dict[str, str]
) -> None:
    pairs = await client.get(
        f"{API}/relationshiptypes/ACME__feeds_Equipment_Location/entitytypes", headers=synced
    )
    assert (await pairs.json())["data"] == [
        {"source": "ACME__AHU", "destination": "ACME__Building"}
    ]
    of_ahu, _ = await get_all(
        client, f"{API}/entitytypes/ACME__AHU/relationshiptypes", synced, size=2
    )
    equipment = {"source": "ACME__Equipment", "destination": "ACME__Equipment"}
    assert of_ahu == [
        {
            "relationshipType": "ACME__feeds_Equipment_Equipment",
            "sourceDestinationPairs": [equipment],
            "roles": ["source", "destination"],
        },
        {
            "relationshipType": "ACME__feeds_Equipment_Location",
            "sourceDestinationPairs": [{"source": "ACME__AHU", "destination": "ACME__Building"}],
            "roles": ["source"],
        },
        {
            "relationshipType": "ACME__hasPoint_Equipment_Point",
            "sourceDestinationPairs": [{"source": "ACME__Equipment", "destination": "ACME__Point"}],
            "roles": ["source"],
        },
    ]
    of_sensor, _ = await get_all(
        client, f"{API}/entitytypes/ACME__Sensor/relationshiptypes", synced
    )
    assert of_sensor == [
        {
            "relationshipType": "ACME__hasPoint_Equipment_Point",
            "sourceDestinationPairs": [{"source": "ACME__Equipment", "destination": "ACME__Point"}],
            "roles": ["destination"],
        }
    ]
    missing = await client.get(f"{API}/relationshiptypes/ACME__nothing/entitytypes", headers=synced)
    assert missing.status == 404


async def test_synced_schemas_satisfy_the_er_contract(
    services: Services, synced: dict[str, str]
) -> None:
    entities = await current_type_schemas(
        services.pool,
        "Acme",
        "entitytypes",
        ["ACME__AHU", "ACME__Building", "ACME__Building_Sensor"],
    )
    relations = await current_type_schemas(
        services.pool,
        "Acme",
        "relationshiptypes",
        ["ACME__feeds_Equipment_Location", "ACME__hasPoint_Equipment_Point"],
    )
    ahu, building, sensor = (entities[f"ACME__{n}"] for n in ("AHU", "Building", "Building_Sensor"))
    assert ahu.metadata["class"] == "AHU" and ahu.lineage == {"AHU", "HVAC_Equipment", "Equipment"}
    feeds, has_point = (
        relations["ACME__feeds_Equipment_Location"],
        relations["ACME__hasPoint_Equipment_Point"],
    )
    assert feeds.allows(ahu, building) and not feeds.allows(building, ahu)
    assert has_point.allows(ahu, sensor) and not has_point.allows(sensor, ahu)

    seed_entity = {"id": "e1", "entityType": "ACME__AHU", "entityName": "AHU-1"}
    Draft6Validator(ahu.schema).validate(seed_entity)
    assert not Draft6Validator(ahu.schema).is_valid({**seed_entity, "extra": 1})
    seed_relationship = {
        "id": "5091e806-39b1-11e8-ae2c-c8e0eb18b031",
        "sourceEntityId": "ac4d999e-3798-11e8-a1af-c8e0eb18b031",
        "destinationEntityId": "ac4d8cd8-3798-11e8-a527-c8e0eb18b031",
        "relationshipName": "test",
        "relationshipType": "ACME__feeds_Equipment_Location",
        "sourceERCollectionId": "august_14_81",
        "destinationERCollectionId": "august_14_8",
        "customData": {"note": "x"},
        "brickRelationshipType": "ACME__feeds",
        "brickSourceEntityType": "ACME__Equipment",
        "brickDestinationEntityType": "ACME__Location",
    }
    Draft6Validator(feeds.schema).validate(seed_relationship)
    incomplete = copy.deepcopy(seed_relationship)
    del incomplete["sourceEntityId"]
    assert not Draft6Validator(feeds.schema).is_valid(incomplete)


async def test_hand_made_relationship_pairs_come_from_the_extension_or_defaults(
    services: Services, client: TestClient, headers: dict[str, str]
) -> None:
    def relationship(type_id: str, **extension: Any) -> dict[str, Any]:
        properties = {
            k: {"type": "string"}
            for k in ("id", "sourceEntityId", "destinationEntityId", "relationshipType")
        }
        properties["brickSourceEntityType"] = {"type": "string", "default": "SITE__Pump"}
        properties["brickDestinationEntityType"] = {"type": "string", "default": "SITE__Tank"}
        schema = {"title": type_id, "type": "object", "properties": properties}
        return {**schema, "x-brick": extension} if extension else schema

    explicit = relationship("SITE__fills", pairs=[{"source": "Pump", "destination": "Vessel"}])
    status, _ = await post_schemas(
        client, headers, "relationshiptypes", [explicit, relationship("SITE__drains")]
    )
    assert status == 201
    found = await current_type_schemas(
        services.pool, "Site", "relationshiptypes", ["SITE__fills", "SITE__drains"]
    )
    assert found["SITE__fills"].pairs == [("Pump", "Vessel")]
    assert found["SITE__drains"].pairs == [("Pump", "Tank")]
    await post_schemas(
        client, headers, "entitytypes", [hand_made("SITE__Tank", parents=["Vessel"])]
    )
    [tank] = (
        await current_type_schemas(services.pool, "Site", "entitytypes", ["SITE__Tank"])
    ).values()
    # Hand-made entity types: ancestors = the given parents plus the brickEntityType default.
    assert tank.lineage == {"Tank", "Vessel", "Equipment"}
