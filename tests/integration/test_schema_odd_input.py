"""Odd input to the schema service is a 400 (or 404), never a 500: text Postgres cannot store
(NUL, lone surrogates) in paths and bodies, and digits that are not ASCII."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.schema_helpers import API, admin_headers, create_collection


@pytest.fixture
async def headers(client: TestClient, make_token: TokenFactory) -> dict[str, str]:
    admin = await admin_headers(make_token)
    await create_collection(client, admin, "Site")
    return admin


@pytest.mark.parametrize(
    "path",
    [
        "/schemacollections?size=%C2%B2",
        "/entitytypes/schemacollections/Site?size=%C2%B2",
        "/entitytypes/SITE__A/versions/%C2%B2",
        "/entitytypes/%00",
        "/entitytypes/%00/versions",
        "/schemacollections/%00",
        "/schemacollections/%00/stats",
        "/entitytypes/schemacollections/%00",
        "/entitytypes/schemacollections/%00/tags/Building",
        "/relationshiptypes/%00/entitytypes",
        "/entitytypes/%00/relationshiptypes",
        "/entitytypes/%00/metadata",
        "/entitytypes/%00/systemdata",
        "/entitytypes/%00/sample",
        "/relationtypes/%00/versions/1/sample",
        "/entitytypes/SITE__A/versions/%C2%B2/sample",
        "/entitytypes/state/%00",
        "/entitytypes/schemacollections/%00/titles",
        "/entitytypes/schemacollections/%00/hierarchy",
        "/entitytypes?size=%C2%B2",
    ],
)
async def test_odd_paths_and_sizes_are_400(
    client: TestClient, headers: dict[str, str], path: str
) -> None:
    response = await client.get(API + path, headers=headers)
    body = await response.json()
    assert response.status == 400, body
    assert body["status"]["code"] == "400"


async def test_unstorable_text_in_bodies_is_400(
    client: TestClient, headers: dict[str, str]
) -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "title": "SITE__A",
        "description": "\ud800",
        "type": "object",
        "properties": {p: {"type": "string"} for p in ("id", "entityType", "entityName")},
    }
    tagged = {**schema, "description": "fine", "x-brick": {"tags": ["a\u0000"]}}
    calls = [
        ("entitytypes", [schema]),
        ("entitytypes", [tagged]),
        ("sync", {"schemaType": "entitytypes", "schemaCollectionId": "Site\u0000"}),
        ("schemacollections", {"schemaCollectionId": "Zed", "releaseLine": "acme\ud800"}),
        ("releases", {"releaseLine": "acme", "version": "9", "tags": ["\u0000"]}),
    ]
    calls += [
        ("entitytypes/schemacollections/Site/hierarchy", [{"id": "\u0000", "children": []}]),
        ("entitytypes/validate", {"entityType": "SITE__A", "x": "\ud800"}),
    ]
    for path, body in calls:
        response = await client.post(
            f"{API}/{path}",
            data=json.dumps(body),
            headers={**headers, "schemaCollectionId": "Site", "Content-Type": "application/json"},
        )
        answer = await response.json()
        assert response.status == 400, (path, answer)
        assert "cannot be stored" in answer["status"]["message"]
    acl = {"grants": [{"principal": "a\u0000", "role": "owner"}]}
    response = await client.put(f"{API}/schemacollections/Site/acl", json=acl, headers=headers)
    assert response.status == 400
    # Nothing was written.
    response = await client.get(f"{API}/entitytypes/SITE__A", headers=headers)
    assert response.status == 404
