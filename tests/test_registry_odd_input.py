"""Odd input on the registry routes is a 4xx that says what is wrong, never a 500."""

from __future__ import annotations

import base64

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import BASE, create_org, failure_reason

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
