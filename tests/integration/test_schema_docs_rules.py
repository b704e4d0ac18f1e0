"""Replays the Apollo schema pages about rules, metadata, hierarchy, state, validation, samples,
caches and sync (one test per page, ids adapted): documented status, shape, and errors."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer
from tests.schema_docs_helpers import NS, TIMESERIES, answer, brick_0_4, post_schema
from tests.schema_helpers import API, admin_headers, create_collection

DOC_RELATIONSHIP = {
    "relationshipType": f"{NS}hasPoint_Equipment_Point",
    "id": "sample_id",
    "sourceEntityId": "source_id",
    "destinationEntityId": "dest_id",
    "relationshipName": "sample_name",
}


@pytest.fixture
async def synced(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> dict[str, str]:
    admin = await admin_headers(make_token)
    await brick_0_4(client, admin)
    return admin


# getRulesForEntity.md, getRulesForRelationship.md ------------------------------------------


async def test_get_rules_for_entity(client: TestClient, synced: dict[str, str]) -> None:
    path = f"/apollo/schema/entitytypes/{NS}Building_Sensor/relationshiptypes"
    query = "?includeSource=true&includeDestination=true"
    body = await answer(await client.get(path + query, headers=synced), 200)
    assert [
        {k: rule[k] for k in ("relationshipType", "sourceDestinationPairs")}
        for rule in body["data"]
    ] == [
        {
            "relationshipType": f"{NS}hasPoint_Equipment_Point",
            "sourceDestinationPairs": [{"source": f"{NS}Equipment", "destination": f"{NS}Point"}],
        }
    ]
    only_source = await client.get(path + "?includeDestination=false", headers=synced)
    await answer(only_source, 404)  # a sensor is never a source: no active rules
    neither = await client.get(
        path + "?includeSource=false&includeDestination=false", headers=synced
    )
    assert "both be false" in (await answer(neither, 400))["status"]["message"]
    await answer(
        await client.get(f"{API}/entitytypes/{NS}Nope/relationshiptypes", headers=synced), 404
    )


async def test_get_rules_for_relationship(client: TestClient, synced: dict[str, str]) -> None:
    path = f"{API}/relationshiptypes/{NS}feeds_Equipment_Location/entitytypes"
    body = await answer(await client.get(path, headers=synced), 200)
    assert body["data"] == [{"source": f"{NS}AHU", "destination": f"{NS}Building"}]
    await answer(
        await client.get(f"{API}/relationshiptypes/{NS}x/entitytypes", headers=synced), 404
    )


# getMetadata.md ----------------------------------------------------------------------------


async def test_get_metadata(client: TestClient, synced: dict[str, str]) -> None:
    response = await client.get(f"{API}/entitytypes/{NS}Building/metadata", headers=synced)
    metadata = (await answer(response, 200))["data"]["brickMetadata"]
    assert {k: metadata[k] for k in list(metadata)[:6]} == {
        "brickDescendantEntityTypes": [],
        "brickAncestorEntityTypes": [f"{NS}Location"],
        "brickEntityType": f"{NS}Location",
        "brickEntitySubType": f"{NS}Building",
        "brickTags": ["Building", "Location"],
        "brickEntityName": "Building",
    }
    equipment = await client.get(f"{API}/entitytypes/{NS}Equipment/metadata", headers=synced)
    descendants = (await answer(equipment, 200))["data"]["brickMetadata"]
    assert descendants["brickDescendantEntityTypes"] == [f"{NS}AHU", f"{NS}HVAC_Equipment"]
    await answer(await client.get(f"{API}/entitytypes/{NS}Nope/metadata", headers=synced), 404)


# getHierarchy.md, apolloCreateHierarchy.md ------------------------------------------------


async def test_get_hierarchy(client: TestClient, synced: dict[str, str]) -> None:
    body = await answer(
        await client.get("/entitytypes/schemacollections/BRICK_0_4/hierarchy", headers=synced), 200
    )
    roots = {node["id"]: node for node in body["data"]}
    assert set(roots) == {f"{NS}Equipment", f"{NS}Location", f"{NS}Point"}
    assert roots[f"{NS}Equipment"]["children"] == [
        {
            "id": f"{NS}HVAC_Equipment",
            "children": [{"id": f"{NS}AHU", "children": []}],
        }
    ]
    await answer(
        await client.get(f"{API}/entitytypes/schemacollections/Nope/hierarchy", headers=synced), 404
    )


async def test_create_hierarchy(
    client: TestClient, synced: dict[str, str], make_token: TokenFactory
) -> None:
    path = "/entitytypes/schemacollections/BRICK_0_4/hierarchy"
    tree = [
        {"id": f"{NS}Point", "children": [{"id": f"{NS}Sensor", "children": []}]},
        {"id": f"{NS}Equipment", "children": []},
    ]
    body = await answer(await client.post(path, json=tree, headers=synced), 200)
    assert body["data"] == tree
    # A later post is merged in: the answer is the whole hierarchy.
    more = [{"id": f"{NS}Sensor", "children": [{"id": f"{NS}Building_Sensor", "children": []}]}]
    body = await answer(await client.post(path, json=more, headers=synced), 200)
    assert body["data"][0]["children"][0]["children"] == [
        {"id": f"{NS}Building_Sensor", "children": []}
    ]
    fetched = await answer(await client.get(path, headers=synced), 200)
    assert fetched["data"] == body["data"]
    # Errors: unknown ids and cycles are 422, a malformed tree 400, another tenant 403.
    unknown = [{"id": f"{NS}Spaceship", "children": []}]
    await answer(await client.post(path, json=unknown, headers=synced), 422)
    loop = [{"id": f"{NS}Building_Sensor", "children": [{"id": f"{NS}Point", "children": []}]}]
    await answer(await client.post(path, json=loop, headers=synced), 422)
    await answer(await client.post(path, json=[{"children": []}], headers=synced), 400)
    mallory = await admin_headers(make_token, "mallory")
    await answer(await client.post(path, json=tree, headers=mallory), 403)
    assert (await answer(await client.get(path, headers=synced), 200))["data"] == body["data"]


# getSchemaByState.md, publishSchema.md ----------------------------------------------------


async def test_get_schema_by_state_and_publish(client: TestClient, synced: dict[str, str]) -> None:
    await create_collection(client, synced, "Brick:Draft")
    await answer(await post_schema(client, synced, "entitytypes", [TIMESERIES]), 201)
    fresh = await answer(await client.get("/entitytypes/state/new", headers=synced), 200)
    assert fresh["data"] == ["Brick:Timeseries"]
    assert fresh["paging"] == {"totalCount": 1, "continuationToken": None}
    response = await client.put(
        f"{API}/entitytypes/Brick:Timeseries/state/publish",
        headers={**synced, "Content-Type": "application/schema+json"},
    )
    data = (await answer(response, 200))["data"]
    assert (data["sysState"], data["sysSchemaVersion"], data["sysEntityType"]) == (
        "published",
        1,
        "Brick:Timeseries",
    )
    assert {"sysTimestamp", "sysCorrelationId", "sysClientId", "sysRequestorId"} <= set(data)
    published = await answer(
        await client.get(f"{API}/entitytypes/state/published", headers=synced), 200
    )
    assert "Brick:Timeseries" in published["data"] and published["paging"]["totalCount"] == 9
    await answer(await client.get(f"{API}/entitytypes/state/retired", headers=synced), 400)
    await answer(
        await client.put(f"{API}/entitytypes/Brick:Nope/state/publish", headers=synced), 404
    )


# validateSchema.md, validateOntology.md ---------------------------------------------------


async def test_validate_schema(client: TestClient, synced: dict[str, str]) -> None:
    body = {"id": "test", "entityName": "AHU-1", "entityType": f"{NS}AHU"}
    response = await client.post(f"{API}/entitytypes/validate", json=body, headers=synced)
    data = (await answer(response, 200))["data"]
    assert set(data) == {"validationId", "reason", "version", "schema", "valid"}
    assert (data["reason"], data["version"], data["valid"]) == (
        "[Validation successful]",
        "1",
        True,
    )
    wrong = {**body, "timeseriesId": "x"}
    response = await client.post(
        f"{API}/entitytypes/validate", json=wrong, headers={**synced, "schemaVer": "1"}
    )
    data = (await answer(response, 200))["data"]
    assert data["valid"] is False and "timeseriesId" in data["reason"]
    missing = {"id": "test"}
    await answer(
        await client.post(f"{API}/entitytypes/validate", json=missing, headers=synced), 400
    )
    unknown = {**body, "entityType": f"{NS}Nope"}
    await answer(
        await client.post(f"{API}/entitytypes/validate", json=unknown, headers=synced), 404
    )
    await client.delete(f"{API}/entitytypes/{NS}AHU", headers=synced)
    await answer(await client.post(f"{API}/entitytypes/validate", json=body, headers=synced), 412)


async def test_validate_ontology(client: TestClient, synced: dict[str, str]) -> None:
    path = f"{API}/relationshiptypes/validate/ontology"
    body = {
        "relationshipObj": DOC_RELATIONSHIP,
        "sourceEntityObj": {"entityType": f"{NS}AHU"},
        "destinationEntityObj": {"entityType": f"{NS}Building_Sensor"},
    }
    data = (await answer(await client.post(path, json=body, headers=synced), 200))["data"]
    assert set(data) == {"validationId", "reason", "version", "schema", "valid"}
    assert (data["reason"], data["valid"]) == (["Validation successful"], True)
    # The page's own example pairs Building with Floor: its rules refuse that pair.
    reversed_ends = {
        **body,
        "sourceEntityObj": {"entityType": f"{NS}Building"},
        "destinationEntityObj": {"entityType": f"{NS}AHU"},
    }
    data = (await answer(await client.post(path, json=reversed_ends, headers=synced), 200))["data"]
    assert data["valid"] is False and "does not allow" in data["reason"][0]
    await answer(await client.post(path, json={"sourceEntityObj": {}}, headers=synced), 400)
    unknown = {"relationshipObj": {**DOC_RELATIONSHIP, "relationshipType": f"{NS}nope"}}
    await answer(await client.post(path, json=unknown, headers=synced), 404)
    await client.delete(f"{API}/relationshiptypes/{NS}hasPoint_Equipment_Point", headers=synced)
    await answer(await client.post(path, json=body, headers=synced), 412)


# apolloCreateSample*.md, apolloGetSample*.md ----------------------------------------------


async def test_create_and_get_samples(
    client: TestClient, synced: dict[str, str], make_token: TokenFactory
) -> None:
    sample = {"entityType": f"{NS}Building", "entityName": "03-003 _ UC3212", "id": "ac4d98e8"}
    path = f"{API}/entitytypes/{NS}Building"
    created = await client.post(path + "/sample", json=sample, headers=synced)
    assert (await answer(created, 200))["data"] == (
        f"Sample entity successfully created for [{NS}Building] against version [1]"
    )
    specific = await client.post(path + "/versions/1/sample", json=sample, headers=synced)
    await answer(specific, 200)
    assert (await answer(await client.get(path + "/sample", headers=synced), 200))["data"] == sample
    at_one = await client.get(path + "/versions/1/sample", headers=synced)
    assert (await answer(at_one, 200))["data"] == sample
    # The sample pages spell relationship types "relationtypes".
    relationship = {
        k: DOC_RELATIONSHIP[k]
        for k in ("id", "sourceEntityId", "destinationEntityId", "relationshipType")
    }
    rel_path = f"/apollo/schema/relationtypes/{NS}hasPoint_Equipment_Point/sample"
    await answer(await client.post(rel_path, json=relationship, headers=synced), 200)
    assert (await answer(await client.get(rel_path, headers=synced), 200))["data"] == relationship
    # Errors: invalid against the schema 422, not an object 400, none yet 404, no role 403.
    invalid = {**sample, "height": 3}
    await answer(await client.post(path + "/sample", json=invalid, headers=synced), 422)
    await answer(await client.post(path + "/sample", json=[sample], headers=synced), 400)
    await answer(await client.get(f"{API}/entitytypes/{NS}AHU/sample", headers=synced), 404)
    await answer(await client.get(path + "/versions/2/sample", headers=synced), 404)
    mallory = await admin_headers(make_token, "mallory")
    await answer(await client.post(path + "/sample", json=sample, headers=mallory), 403)


# invalidateCache.md, syncSchema.md --------------------------------------------------------


async def test_invalidate_cache(client: TestClient, make_token: TokenFactory) -> None:
    admin = await admin_headers(make_token)
    body = await answer(await client.put(f"{API}/invalidate", headers=admin), 200)
    assert body["data"] is True
    typed = await client.put(f"{API}/invalidate?type=relationshiptypesrule", headers=admin)
    await answer(typed, 200)
    await answer(await client.put(f"{API}/invalidate?type=bogus", headers=admin), 400)
    reader = bearer(await make_token("bob", "apollo_read"))
    await answer(await client.put(f"{API}/invalidate", headers=reader), 403)


async def test_sync_schema(
    client: TestClient, synced: dict[str, str], make_token: TokenFactory
) -> None:
    body = {"schemaType": "relationshiptypes", "schemaCollectionId": "BRICK_0_4"}
    response = await client.post(f"{API}/sync?v=1.0", json=body, headers=synced)
    [entry] = (await answer(response, 200))["data"]["relationshiptypes"]
    assert entry["collId"] == "BRICK_0_4"
    assert entry["response"]["reason"] == (
        "Attempted '3' schemas: inserted '0' schemas, updated '0' schemas, '0' failed"
    )
    assert entry["response"]["success"] == []
    # The page's own body has empty strings: a mandatory field is missing.
    empty = {"schemaType": "", "schemaCollectionId": ""}
    await answer(await client.post(f"{API}/sync", json=empty, headers=synced), 400)
    plain = {"schemaType": "messagetypes", "schemaCollectionId": "BRICK_0_4"}
    await answer(await client.post(f"{API}/sync", json=plain, headers=synced), 412)
    mallory = await admin_headers(make_token, "mallory")
    body = {"schemaType": "entitytypes", "schemaCollectionId": "BRICK_0_4"}
    await answer(await client.post(f"{API}/sync", json=body, headers=mallory), 403)


async def test_a_schema_with_a_dangling_ref_is_422_not_500(
    client: TestClient, make_token: TokenFactory
) -> None:
    admin = await admin_headers(make_token)
    await create_collection(client, admin, "Brick:Draft")
    dangling = {
        **TIMESERIES,
        "properties": {**TIMESERIES["properties"], "x": {"$ref": "#/definitions/missing"}},
    }
    await answer(await post_schema(client, admin, "entitytypes", [dangling]), 201)
    body = {"entityType": "Brick:Timeseries", "id": "a", "timeseriesId": "b", "x": 1}
    response = await client.post(f"{API}/entitytypes/validate", json=body, headers=admin)
    await answer(response, 422)
