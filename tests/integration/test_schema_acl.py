"""Schema collections have an owner and an access list: editor < admin < owner."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory
from tests.schema_docs_helpers import TIMESERIES, answer, post_schema
from tests.schema_helpers import API, admin_headers, create_collection

ACL = f"{API}/schemacollections/Brick:Draft/acl"


def grants(**roles: str) -> dict[str, Any]:
    return {"grants": [{"principal": name, "role": role} for name, role in roles.items()]}


@pytest.fixture
async def people(client: TestClient, make_token: TokenFactory) -> dict[str, dict[str, str]]:
    """alice owns Brick:Draft; bob, carol and mallory hold apollo_admin but no role yet."""
    found = {
        name: await admin_headers(make_token, name) for name in ("alice", "bob", "carol", "mallory")
    }
    await create_collection(client, found["alice"], "Brick:Draft")
    return found


async def test_the_creator_owns_the_collection(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    body = await answer(await client.get(ACL, headers=people["alice"]), 200)
    assert body["data"]["schemaCollectionId"] == "Brick:Draft"
    assert [(g["principal"], g["role"]) for g in body["data"]["grants"]] == [("alice", "owner")]


async def test_without_a_role_an_admin_scope_changes_nothing(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    mallory = people["mallory"]
    await answer(await post_schema(client, mallory, "entitytypes", [TIMESERIES]), 403)
    await answer(await post_schema(client, people["alice"], "entitytypes", [TIMESERIES]), 201)
    calls = [
        ("DELETE", f"{API}/entitytypes/Brick:Timeseries", None),
        ("PUT", f"{API}/entitytypes/Brick:Timeseries/state/publish", None),
        ("DELETE", f"{API}/schemacollections/Brick:Draft", None),
        ("GET", ACL, None),
        ("PUT", ACL, grants(mallory="owner")),
        ("POST", f"{API}/sync", {"schemaType": "entitytypes", "schemaCollectionId": "Brick:Draft"}),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=mallory)
        assert "role" in (await answer(response, 403))["status"]["message"], path
    # Reading stays open to every apollo_read token.
    await answer(await client.get(f"{API}/entitytypes/Brick:Timeseries", headers=mallory), 200)


async def test_roles_grant_what_they_say(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    body = await answer(
        await client.put(
            ACL, json=grants(alice="owner", bob="editor", carol="admin"), headers=alice
        ),
        200,
    )
    assert [(g["principal"], g["role"]) for g in body["data"]["grants"]] == [
        ("alice", "owner"),
        ("bob", "editor"),
        ("carol", "admin"),
    ]
    # An editor writes schemas but cannot read or change the access list, nor delete.
    await answer(await post_schema(client, bob, "entitytypes", [TIMESERIES]), 201)
    await answer(await client.get(ACL, headers=bob), 403)
    await answer(await client.delete(f"{API}/schemacollections/Brick:Draft", headers=bob), 403)
    # An admin manages editors and admins, not owners.
    await answer(await client.get(ACL, headers=carol), 200)
    promote = grants(alice="owner", bob="admin", carol="admin")
    await answer(await client.put(ACL, json=promote, headers=carol), 200)
    take_over = grants(alice="owner", carol="owner")
    assert (
        "owner"
        in (await answer(await client.put(ACL, json=take_over, headers=carol), 403))["status"][
            "message"
        ]
    )
    # Only owners delete, and the list always keeps one.
    await answer(await client.put(ACL, json=grants(bob="admin"), headers=alice), 400)
    await answer(await client.put(ACL, json=grants(alice="king"), headers=alice), 400)
    await client.delete(f"{API}/entitytypes/Brick:Timeseries", headers=alice)
    await answer(await client.delete(f"{API}/schemacollections/Brick:Draft", headers=alice), 200)
