"""Replays the Apollo schema pages about collections and type schemas (one test per page, ids
adapted), asserting the documented status and response shape, then each documented error."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer
from tests.schema_docs_helpers import (
    COLLECTION_SYS_KEYS,
    NS,
    TIMESERIES,
    TYPE_SYS_KEYS,
    answer,
    brick_0_4,
    post_schema,
)
from tests.schema_helpers import API, admin_headers, create_collection


@pytest.fixture
async def admin(client: TestClient, make_token: TokenFactory) -> dict[str, str]:
    return await admin_headers(make_token)


@pytest.fixture
async def draft(client: TestClient, admin: dict[str, str]) -> dict[str, str]:
    """Collection Brick:Draft holding createSchema's own example."""
    await create_collection(client, admin, "Brick:Draft")
    await answer(await post_schema(client, admin, "entitytypes", [TIMESERIES]), 201)
    return admin


@pytest.fixture
async def synced(
    client: TestClient, admin: dict[str, str], background_worker: None
) -> dict[str, str]:
    await brick_0_4(client, admin)
    return admin


# apolloCreateSchemaCollection.md, apolloDeleteSchemaCollection.md ---------------------------


@pytest.mark.parametrize(
    "path", [f"{API}/schemacollections/?v=1.0", "/schemacollections/", f"{API}/schemacollections"]
)
async def test_create_schema_collection(
    client: TestClient, admin: dict[str, str], path: str
) -> None:
    response = await client.post(path, json={"schemaCollectionId": "BRICK_0_4"}, headers=admin)
    body = await answer(response, 200)
    assert body["status"]["message"] == "Operation completed" and body["paging"] is None
    assert COLLECTION_SYS_KEYS <= set(body["data"]) and body["data"]["sysActive"] is True
    again = await client.post(path, json={"schemaCollectionId": "brick_0_4"}, headers=admin)
    assert "already exists" in (await answer(again, 409))["status"]["message"]


async def test_create_schema_collection_errors(
    client: TestClient, admin: dict[str, str], make_token: TokenFactory
) -> None:
    await create_collection(client, admin, "Brick:Draft")  # ':' is allowed
    deleted = await client.delete(f"{API}/schemacollections/Brick:Draft", headers=admin)
    assert (await answer(deleted, 200))["data"]["sysActive"] is False
    # "409 If schema collection already exist or is now deleted".
    again = await client.post(
        f"{API}/schemacollections/", json={"schemaCollectionId": "Brick:Draft"}, headers=admin
    )
    await answer(again, 409)
    reader = bearer(await make_token("bob", "apollo_read"))
    refused = await client.post(
        f"{API}/schemacollections/", json={"schemaCollectionId": "X"}, headers=reader
    )
    await answer(refused, 403)
    assert (await client.post(f"{API}/schemacollections/", json={})).status == 401


async def test_delete_schema_collection(
    client: TestClient, synced: dict[str, str], make_token: TokenFactory
) -> None:
    headers = {**synced, "key": "xyzzyspoon!"}
    await create_collection(client, synced, "Empty")
    response = await client.delete("/schemacollections/Empty", headers=headers)
    body = await answer(response, 200)
    assert COLLECTION_SYS_KEYS <= set(body["data"]) and body["data"]["sysActive"] is False
    await answer(await client.delete(f"{API}/schemacollections/Nope", headers=headers), 404)
    busy = await client.delete(f"{API}/schemacollections/BRICK_0_4", headers=headers)
    assert "active schemas" in (await answer(busy, 412))["status"]["message"]
    other = await admin_headers(make_token, "mallory")
    await answer(await client.delete(f"{API}/schemacollections/BRICK_0_4", headers=other), 403)


# getListOfCollectionId.md, getCountOfSchemaPerCollection.md -----------------------------------


async def test_get_list_of_collection_ids(client: TestClient, admin: dict[str, str]) -> None:
    for name in ("BRICK_0_4", "BIM_0_1"):
        await create_collection(client, admin, name)
    body = await answer(await client.get("/schemacollections", headers=admin), 200)
    assert body["data"] == ["BIM_0_1", "BRICK_0_4"]
    assert body["paging"] == {"totalCount": 2, "continuationToken": None}


async def test_get_count_of_schemas_per_collection(
    client: TestClient, synced: dict[str, str]
) -> None:
    response = await client.get("/schema/schemacollections/BRICK_0_4/stats", headers=synced)
    data = (await answer(response, 200))["data"]
    assert {k: data[k] for k in list(data)[:4]} == {
        "entityTypeSchemaCount": 8,
        "relationshipTypeSchemaCount": 3,
        "messageTypeSchemaCount": 0,
        "eventTypeSchemaCount": 0,
    }
    await answer(await client.get(f"{API}/schemacollections/Nope/stats", headers=synced), 404)


# createSchema.md, deleteSchema.md ----------------------------------------------------------


async def test_create_schema(client: TestClient, admin: dict[str, str]) -> None:
    await create_collection(client, admin, "Brick:Draft")
    body = await answer(await post_schema(client, admin, "entitytypes", [TIMESERIES]), 201)
    assert body["status"]["message"] == "success"
    assert {k: body["data"][k] for k in ("status", "reason", "success", "failed")} == {
        "status": "success",
        "reason": "attempted '1' schemas: inserted '1' schemas, updated '0' schemas, '0' failed",
        "success": ["Brick:Timeseries"],
        "failed": [],
    }
    changed = {**TIMESERIES, "description": "Changed"}
    body = await answer(await post_schema(client, admin, "entitytypes", [changed]), 201)
    assert body["data"]["reason"].startswith(
        "attempted '1' schemas: inserted '0' schemas, updated '1'"
    )
    # schemaMetadata is kept: its tags answer the tag query, the schema comes back as posted.
    tagged = await client.get(
        f"{API}/entitytypes/schemacollections/Brick:Draft/tags/timeseries", headers=admin
    )
    items = (await answer(tagged, 200))["data"]  # every version of the active type
    assert [item["schema"]["description"] for item in items] == [
        TIMESERIES["description"],
        "Changed",
    ]
    assert items[1]["schema"]["schemaMetadata"] == TIMESERIES["schemaMetadata"]
    # messagetypes and eventtypes: plain JSON schemas, keyed by sysMessageType / sysEventType.
    message = {"sysMessageType": "Brick:Alarm", "type": "object", "properties": {}}
    await answer(await post_schema(client, admin, "messagetypes", message), 201)
    event = {"sysEventType": "Brick:Opened", "type": "string"}
    await answer(await post_schema(client, admin, "eventtypes", [event]), 201)


async def test_create_schema_errors(
    client: TestClient, draft: dict[str, str], make_token: TokenFactory
) -> None:
    no_header = await client.post(
        f"{API}/entitytypes",
        json=[TIMESERIES],
        headers={**draft, "Content-Type": "application/schema+json"},
    )
    await answer(no_header, 400)
    nameless = {k: v for k, v in TIMESERIES.items() if k not in ("title", "sysEntityType")}
    await answer(await post_schema(client, draft, "entitytypes", [nameless]), 400)
    invalid = {**TIMESERIES, "sysEntityType": "Brick:Broken", "type": 12}
    body = await answer(await post_schema(client, draft, "entitytypes", [invalid]), 422)
    assert body["data"]["status"] == "failed" and body["data"]["failed"] == ["Brick:Broken"]
    partial = [{**TIMESERIES, "sysEntityType": "Brick:Other"}, invalid]
    body = await answer(await post_schema(client, draft, "entitytypes", partial), 206)
    assert body["data"]["status"] == "partial_success"
    assert body["data"]["success"] == ["Brick:Other"]
    reader = bearer(await make_token("bob", "apollo_read"))
    await answer(await post_schema(client, reader, "entitytypes", [TIMESERIES]), 403)
    # Another tenant can neither write into the collection nor take its type ids.
    mallory = await admin_headers(make_token, "mallory")
    await answer(await post_schema(client, mallory, "entitytypes", [TIMESERIES]), 403)
    await create_collection(client, mallory, "Mine")
    body = await answer(
        await post_schema(client, mallory, "entitytypes", [TIMESERIES], "Mine"), 422
    )
    assert "Brick:Draft" in body["data"]["failures"][0]["reason"]


async def test_delete_schema(client: TestClient, draft: dict[str, str]) -> None:
    event = {"sysEventType": "Brick:Opened", "type": "object"}
    await answer(await post_schema(client, draft, "eventtypes", [event]), 201)
    headers = {**draft, "key": "xyzzyspoon!"}
    response = await client.delete(f"{API}/eventtypes/Brick:Opened", headers=headers)
    assert (await answer(response, 200))["data"] == "eventType [Brick:Opened] successfully deleted"
    await answer(await client.delete(f"{API}/eventtypes/Brick:Opened", headers=headers), 404)
    deleted = await client.delete(f"{API}/entitytypes/Brick:Timeseries", headers=headers)
    assert (await answer(deleted, 200))[
        "data"
    ] == "entityType [Brick:Timeseries] successfully deleted"


# getSchemaById.md, getSchemaByIDAndVer.md, getSchemaAllVer.md, getSystemdata.md --------------


async def test_get_schema_by_id(client: TestClient, synced: dict[str, str]) -> None:
    path = f"{API}/entitytypes/{NS}Building"
    body = await answer(await client.get(path + "?includeSystemData=false", headers=synced), 200)
    assert list(body["data"]) == ["schema"] and body["data"]["schema"]["title"] == f"{NS}Building"
    body = await answer(await client.get(path + "?includeSystemData=true", headers=synced), 200)
    assert TYPE_SYS_KEYS | {"sysEntityType"} <= set(body["data"]["sysData"])
    await answer(await client.get(f"{API}/entitytypes/{NS}Nope", headers=synced), 404)


async def test_get_schema_by_id_and_version(client: TestClient, synced: dict[str, str]) -> None:
    path = f"{API}/entitytypes/{NS}Building/versions"
    body = await answer(await client.get(path + "/1?includeSystemData=false", headers=synced), 200)
    assert list(body["data"]) == ["schema"]
    await answer(await client.get(path + "/9", headers=synced), 404)


async def test_get_schema_all_versions(client: TestClient, draft: dict[str, str]) -> None:
    await post_schema(client, draft, "entitytypes", [{**TIMESERIES, "description": "v2"}])
    path = f"{API}/entitytypes/Brick:Timeseries/versions?includeSystemData=false"
    body = await answer(await client.get(path, headers=draft), 200)
    assert [list(item) for item in body["data"]] == [["schema"], ["schema"]]
    await answer(await client.get(f"{API}/entitytypes/Brick:Nope/versions", headers=draft), 404)


async def test_get_system_data(client: TestClient, draft: dict[str, str]) -> None:
    response = await client.get(
        f"{API}/entitytypes/Brick:Timeseries/systemdata",
        headers={**draft, "x-correlation-id": "f7b54ce6"},
    )
    sys_data = (await answer(response, 200))["data"]["sysData"]
    assert TYPE_SYS_KEYS | {"sysEntityType"} <= set(sys_data)
    assert (sys_data["sysEntityType"], sys_data["sysSchemaCollectionId"]) == (
        "Brick:Timeseries",
        "Brick:Draft",
    )
    assert (sys_data["sysSchemaVersion"], sys_data["sysState"]) == (1, "new")
    assert sys_data["sysActive"] is True and sys_data["sysIsMaster"] is True
    assert sys_data["sysRequestorId"] == "alice"
    await answer(await client.get(f"{API}/eventtypes/Nope/systemdata", headers=draft), 404)


# getAllSchema.md, getAllSchemaTitles.md, getSchemaByCollection.md, getSchemaByCollectionAndTag.md


async def test_get_all_schemas(client: TestClient, synced: dict[str, str]) -> None:
    first = await client.get(f"{API}/entitytypes?includeSystemData=false&size=5", headers=synced)
    body = await answer(first, 200)
    assert len(body["data"]) == 5 and body["paging"]["totalCount"] == 8
    token = body["paging"]["continuationToken"]
    rest = await client.get(
        f"{API}/entitytypes?size=5", headers={**synced, "continuationToken": token}
    )
    assert len((await answer(rest, 200))["data"]) == 3
    # The PageSize header (the ER and status pages' spelling) works here too.
    sized = await client.get(f"{API}/entitytypes", headers={**synced, "PageSize": "2"})
    assert len((await answer(sized, 200))["data"]) == 2
    await answer(await client.get(f"{API}/entitytypes", headers={**synced, "PageSize": "+2"}), 400)


async def test_get_all_schema_titles(client: TestClient, synced: dict[str, str]) -> None:
    path = f"{API}/relationshiptypes/schemacollections/BRICK_0_4/titles"
    body = await answer(await client.get(path, headers=synced), 200)
    assert body["data"] == [
        f"{NS}feeds_Equipment_Equipment",
        f"{NS}feeds_Equipment_Location",
        f"{NS}hasPoint_Equipment_Point",
    ]
    missing = await client.get(f"{API}/entitytypes/schemacollections/Nope/titles", headers=synced)
    await answer(missing, 404)


async def test_get_schema_by_collection(client: TestClient, synced: dict[str, str]) -> None:
    path = "/entitytypes/schemacollections/BRICK_0_4?size=10&includeSystemData=false"
    body = await answer(await client.get(path, headers=synced), 200)
    assert len(body["data"]) == 8 and body["paging"] == {"totalCount": 8, "continuationToken": None}
    published = await client.get(path + "&state=published", headers=synced)
    assert len((await answer(published, 200))["data"]) == 8
    fresh = await client.get(path + "&state=new", headers=synced)
    assert (await answer(fresh, 200))["data"] == []
    await answer(await client.get(path + "&state=odd", headers=synced), 400)
    await answer(await client.get("/entitytypes/schemacollections/Nope", headers=synced), 404)


async def test_get_schema_by_collection_and_tag(client: TestClient, synced: dict[str, str]) -> None:
    path = "/entitytypes/schemacollections/BRICK_0_4/tags/Building?includeSystemData=false"
    body = await answer(await client.get(path, headers=synced), 200)
    assert [i["schema"]["title"] for i in body["data"]] == [f"{NS}Building", f"{NS}Building_Sensor"]
    unknown = "/entitytypes/schemacollections/BRICK_0_4/tags/Spaceship"
    await answer(await client.get(unknown, headers=synced), 400)
    missing = "/entitytypes/schemacollections/Nope/tags/Building"
    await answer(await client.get(missing, headers=synced), 404)
