"""Odd input on the registry routes is a 4xx that says what is wrong, never a 500."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp.test_utils import TestClient

from shared.registry.metaschema import MAX_NESTING, nesting_depth
from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import (
    BASE,
    RunJobs,
    create_org,
    create_schema,
    failure_reason,
    register,
    validation_schema,
)

ORG = f"{BASE}/schema/organization"


async def test_ids_tokens_and_names_that_cannot_reach_sql(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view", "modify")
    headers = bearer(token)
    org = await create_org(client, token, "my.organization")

    # '²' is a digit to str.isdigit() but not to int().
    response = await client.get(f"{ORG}/²/acl", headers=headers)
    assert "not found" in failure_reason(response.status, await response.json(), 404)

    too_far = base64.urlsafe_b64encode(b"after:99999999999999999999999").decode()
    for page_token in (too_far, base64.urlsafe_b64encode("after:²".encode()).decode()):
        response = await client.post(
            f"{ORG}/list", json={"nextPageToken": page_token}, headers=headers
        )
        assert "nextPageToken" in failure_reason(response.status, await response.json(), 400)

    acl = await (await client.get(f"{ORG}/{org['id']}/acl", headers=headers)).json()
    for principal_id in ("²", 10**20, str(10**20)):
        entry = {"principalId": principal_id, "accessType": ["READ"]}
        body = {**acl, "resourceAccess": [*acl["resourceAccess"], entry]}
        response = await client.put(f"{ORG}/{org['id']}/acl", json=body, headers=headers)
        reason = failure_reason(response.status, await response.json(), 400)
        assert "principalId must be a positive integer" in reason

    response = await client.get(ORG, params={"name": "my.org\x00x"}, headers=headers)
    assert "NUL" in failure_reason(response.status, await response.json(), 400)
    for path, body in (
        ("/schema/list", {"organizationName": "my.org\x00x"}),
        ("/schema/version/list", {"organizationName": "my.organization", "schemaName": "a\x00"}),
    ):
        response = await client.post(f"{BASE}{path}", json=body, headers=headers)
        assert "NUL" in failure_reason(response.status, await response.json(), 400)


def nested(keyword: str, levels: int) -> dict[str, Any]:
    """A schema ``levels`` objects and arrays deep, ``keyword`` wrapping each subschema."""
    node: dict[str, Any] = {"type": "string"}
    depth = 1
    while depth < levels:
        if keyword == "allOf" and depth + 2 <= levels:
            node, depth = {"allOf": [node]}, depth + 2
        elif keyword == "properties" and depth + 2 <= levels:
            node, depth = {"properties": {"a": node}}, depth + 2
        elif keyword == "not":
            node, depth = {"not": node}, depth + 1
        else:
            node, depth = {"items": node}, depth + 1
    return node


async def test_deeply_nested_schemas_are_refused_not_crashed(
    client: TestClient, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, "my.organization")
    for keyword in ("items", "allOf", "properties", "not"):
        deepest = {"$id": f"my.organization-{keyword}", **nested(keyword, MAX_NESTING)}
        assert nesting_depth(deepest) == MAX_NESTING
        await register(client, token, run_jobs, deepest)

        too_deep = {"$id": f"my.organization-{keyword}", "items": nested(keyword, MAX_NESTING)}
        status, body = await create_schema(client, token, run_jobs, too_deep)
        reason = failure_reason(status, body, 400)
        assert f"{MAX_NESTING + 1} levels deep; at most {MAX_NESTING}" in reason

    # Deep enough to exhaust the stack of an unchecked validator: still a 400.
    status, body = await create_schema(
        client, token, run_jobs, {"$id": "my.organization-Deep", **nested("allOf", 400)}
    )
    assert "400 levels deep" in failure_reason(status, body, 400)

    referring = {"$id": "my.organization-Top", **nested("items", MAX_NESTING - 1)}
    referring["items"] = {"$ref": "my.organization-allOf"}
    await register(client, token, run_jobs, referring)
    status, body = await validation_schema(client, token, run_jobs, "my.organization-Top")
    assert status == 201, body


async def test_a_local_ref_to_no_array_element_fails_the_job_with_a_400(
    client: TestClient, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, "my.organization")
    # One past the end, a digit int() cannot read, and a leading zero (RFC 6901 has none).
    for ref in ("#/allOf/1", "#/allOf/²", "#/allOf/00"):
        schema = {
            "$id": "my.organization-Pointer",
            "allOf": [{"type": "string"}],
            "properties": {"x": {"$ref": ref}},
        }
        status, body = await create_schema(client, token, run_jobs, schema)
        reason = failure_reason(status, body, 400)
        assert reason == f"The $ref '{ref}' at /properties/x points to nothing in this schema"
    schema = {"$id": "my.organization-Pointer", "allOf": [{"type": "string"}]}
    schema["properties"] = {"x": {"$ref": "#/allOf/0"}}
    await register(client, token, run_jobs, schema)
