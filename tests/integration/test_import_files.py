"""The Apollo file-import pages: POST .../entities and .../relationships with a fileName header,
the file uploaded first (the pages' empty body) or sent as the body."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES
from tests.import_helpers import small_collection


def headers(token: str, name: str) -> dict[str, str]:
    return {
        **bearer(token),
        "Content-Type": "application/json",
        "ercollectionid": "site",
        "async": "false",
        "fileName": name,
    }


async def test_entities_from_an_uploaded_csv_then_relationships_from_a_json_body(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    csv = (
        "id,entityName,entityType,customData\n"
        "string,string,string,object\n"
        "required,required,required,optional\n"
        f'JCI-507-B1,AHU B1,{ns}__AHU,"{{""floor"": 1}}"\n'
        f"JCI-507-B1-F1,Fan F1,{ns}__Fan,\n"
    )
    uploaded = await client.put(
        "/apollo/er/files/Import_Entities.csv", data=csv.encode(), headers=bearer(token)
    )
    assert uploaded.status == 201, await uploaded.text()
    # The page's request: no body, the file named in the header, v=1.1 for CSV.
    answer = await client.post(
        "/apollo/er/entities?v=1.1", headers=headers(token, "Import_Entities.csv")
    )
    body = await answer.json()
    assert answer.status == 207, body
    assert body["status"]["message"] == "Total number of Entities Upserted:  2."
    assert [s["id"] for s in body["data"]["responses"]["success"]] == [
        "JCI-507-B1",
        "JCI-507-B1-F1",
    ]
    stored = await services.pool.fetchval(
        "SELECT body::text FROM er_entities WHERE id = 'JCI-507-B1'"
    )
    assert '"customData": {"floor": 1}' in stored or '"customData":{"floor":1}' in stored

    relationships = (
        f'[{{"id": "JCI-507-B1-feeds-JCI-507-B1-F1", "sourceEntityId": "JCI-507-B1",'
        f' "destinationEntityId": "JCI-507-B1-F1", "relationshipName": "feeds",'
        f' "relationshipType": "{ns}__feeds_Equipment_Equipment"}}]'
    )
    answer = await client.post(
        "/apollo/er/relationships",
        data=relationships.encode(),
        headers=headers(token, "file_name.json"),
    )
    body = await answer.json()
    assert answer.status == 207, body
    assert body["status"]["message"] == "Total number of Relationships Upserted:  1."


async def test_a_missing_file_or_a_malformed_one_is_a_clear_error(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await small_collection(client, services.pool, token)
    answer = await client.post("/apollo/er/entities", headers=headers(token, "nowhere.json"))
    assert answer.status == 404
    assert "upload it first" in (await answer.json())["status"]["message"]
    answer = await client.post(
        "/apollo/er/entities", data=b"{broken\n", headers=headers(token, "bad.json")
    )
    assert answer.status == 400
    assert "line 1" in (await answer.json())["status"]["message"]
