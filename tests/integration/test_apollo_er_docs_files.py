"""The Apollo docs' file-entity pages (erservice/getFileEntityByFileName.md, getFileEntityById.md)
replayed: a file uploaded into an ER collection is a JCI_EXT__File entity, read back as a list by
its file name or entity id; other collections' files are never answered."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import DOCS, SCHEMA_COLLECTION, docs_headers, ok, world
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, register

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2040
DESCRIPTION = "Mango image from sample photos 11"
# The pages' answer, key for key (file_rating aside: nothing sets it, see apollo-compatibility.md).
ITEM_KEYS = {
    "entityType", "entityName", "id", "sysData", "brickEntityName", "brickEntitySubType",
    "brickEntityType", "isActive",
}  # fmt: skip
SYS_KEYS = {"file_name", "file_description", "file_size", "file_type", "file_version", "version"}


async def upload(
    client: TestClient, token: str, name: str, content: bytes, collection: str | None = DOCS
) -> dict[str, Any]:
    headers = {**bearer(token), "Content-Type": "image/png", "fileDescription": DESCRIPTION}
    if collection is not None:
        headers["ercollectionid"] = collection
    response = await client.put(f"/apollo/er/files/{name}", data=content, headers=headers)
    return await ok(response, 201)


async def test_the_pages_examples_by_file_name_and_by_id(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await world(client, services, make_token)
    uploaded = (await upload(client, token, "testFile.txt", PNG))["data"]
    assert uploaded["fileName"] == "testFile.txt" and uploaded["size"] == len(PNG)
    assert uploaded["tracker"]
    # Both pages' curl examples POST; the method line says GET: both are served.
    response = await client.post(
        "/apollo/entities/filename/testFile.txt", headers=docs_headers(token)
    )
    [item] = (await ok(response))["data"]
    assert set(item) == ITEM_KEYS and set(item["sysData"]) == SYS_KEYS
    assert item["entityType"] == "JCI_EXT__File" and item["isActive"] is True
    assert item["brickEntityType"] == item["brickEntitySubType"] == "JCI_EXT__File"
    assert item["sysData"] == {
        "file_name": "testFile.txt",
        "file_description": DESCRIPTION,
        "file_size": len(PNG),
        "file_type": "image/png",
        "file_version": "1",
        "version": 1,
    }
    assert item["id"] == uploaded["entity"]["id"]
    # getFileEntityById: the entity id in the same path.
    response = await client.get(
        f"/apollo/entities/filename/{item['id']}", headers=docs_headers(token)
    )
    assert (await ok(response))["data"] == [item]
    # An ordinary entity of its collection: the usual reads and system data see it.
    response = await client.get(
        f"/apollo/er/entities/{item['id']}?includeSystemData=true", headers=docs_headers(token)
    )
    [read] = (await ok(response))["data"]
    assert read["sysData"]["file_name"] == "testFile.txt"
    assert read["sysData"]["sysEntityVersion"] == 1 and read["sysData"]["sysRequestorId"] == "alice"
    logged = await services.pool.fetchval(
        "SELECT count(*) FROM status_logs WHERE item_id = $1 AND item_kind = 'entity'", item["id"]
    )
    assert logged >= 1


async def test_a_re_upload_is_a_new_version_of_the_same_entity(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await world(client, services, make_token)
    first = (await upload(client, token, "plan.pdf", b"one"))["data"]["entity"]
    second = (await upload(client, token, "plan.pdf", b"second"))["data"]["entity"]
    assert first["id"] == second["id"]
    response = await client.get("/apollo/entities/filename/plan.pdf", headers=docs_headers(token))
    [item] = (await ok(response))["data"]
    assert item["sysData"]["file_version"] == "2" and item["sysData"]["file_size"] == len(b"second")
    response = await client.get(
        f"/apollo/er/entities/{item['id']}/versions", headers=docs_headers(token)
    )
    versions = (await ok(response))["data"]
    assert [v["sysData"]["file_version"] for v in versions] == ["1", "2"]
    # The change feed sees both writes.
    response = await client.get("/apollo/changefeed/logs", headers=docs_headers(token))
    fed = [int(e["version"]) for e in (await ok(response))["data"] if e["entityId"] == item["id"]]
    assert fed == [1, 2]
    # The content stays the uploader's for an import naming it.
    stored = await services.pool.fetchval(
        "SELECT content FROM er_uploaded_files WHERE file_name = 'plan.pdf'"
    )
    assert stored == b"second"


async def test_without_the_header_it_stays_a_private_upload(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await world(client, services, make_token)
    body = await upload(client, token, "later.json", b"[]", collection=None)
    assert body["data"] == {"fileName": "later.json", "size": 2}
    response = await client.get("/apollo/entities/filename/later.json", headers=docs_headers(token))
    assert response.status == 404
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 5  # the world's


async def test_401_403_404_and_another_collections_file(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await world(client, services, make_token)
    assert (await register(client, token, "OtherER", SCHEMA_COLLECTION)).status == 201
    other = (await upload(client, token, "secret.txt", b"other", collection="OtherER"))["data"]
    mine = (await upload(client, token, "mine.txt", b"mine"))["data"]
    path = "/apollo/entities/filename/"
    # Another collection's file, by name or by id, is not in this one.
    for wanted in ("secret.txt", other["entity"]["id"]):
        response = await client.get(path + wanted, headers=docs_headers(token))
        assert response.status == 404, await response.text()
    assert (await client.get(path + "mine.txt")).status == 401
    bob = await make_token("bob", *ALL_SCOPES)
    response = await client.get(path + "mine.txt", headers=docs_headers(bob))
    assert response.status == 403
    body = await response.text()
    assert mine["entity"]["id"] not in body and "sysData" not in body
    # bob cannot upload into it either, and nothing of his is kept.
    refused = await client.put(
        "/apollo/er/files/bob.txt", data=b"x", headers={**bearer(bob), "ercollectionid": DOCS}
    )
    assert refused.status == 403
    assert not await services.pool.fetchval(
        "SELECT count(*) FROM er_uploaded_files WHERE file_name = 'bob.txt'"
    )
    reader = await make_token("carol", "apollo_write")
    response = await client.get(path + "mine.txt", headers=docs_headers(reader))
    assert response.status == 403  # no apollo_read scope
    response = await client.get(path + "mine.txt", headers=bearer(token))
    assert response.status == 400  # no ercollectionid header
