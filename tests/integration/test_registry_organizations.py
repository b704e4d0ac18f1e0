"""Organizations and their ACLs over HTTP, and the login call Synapse clients make."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from shared.auth import Principal
from shared.registry import OrganizationService
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import BASE, create_org, create_schema, failure_reason

ORG = f"{BASE}/schema/organization"
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_user_profile_names_the_caller(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    response = await client.get(f"{BASE}/userProfile", headers=bearer(token))
    assert response.status == 200
    profile = await response.json()
    assert profile["userName"] == profile["displayName"] == "alice"
    assert profile["ownerId"].isdigit()
    assert (await client.get(f"{BASE}/userProfile")).status == 401


async def test_create_get_and_creator_acl(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view", "modify")
    alice_id = await services.auth.principal_id("alice")
    org = await create_org(client, token, "my.organization")
    assert org["name"] == "my.organization" and org["createdBy"] == str(alice_id)
    assert org["id"].isdigit() and ISO_MS_Z.match(org["createdOn"])

    got = await client.get(ORG, params={"name": "MY.Organization"}, headers=bearer(token))
    assert got.status == 200 and await got.json() == org

    acl = await (await client.get(f"{ORG}/{org['id']}/acl", headers=bearer(token))).json()
    assert acl["id"] == org["id"] and acl["etag"]
    assert acl["resourceAccess"] == [
        {
            "principalId": alice_id,
            "accessType": ["CHANGE_PERMISSIONS", "CREATE", "DELETE", "READ", "UPDATE"],
        }
    ]


async def test_create_refusals(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, "my.organization")

    async def attempt(body: object, headers: dict[str, str]) -> tuple[int, str]:
        response = await client.post(ORG, json=body, headers=headers)
        return response.status, (await response.json())["reason"]

    assert await attempt({"organizationName": "My.Organization"}, bearer(token)) == (
        400,
        "An Organization with the name: 'My.Organization' already exists",
    )
    status, reason = await attempt({"organizationName": "ab.c"}, bearer(token))
    assert status == 400 and "6 to 250 characters" in reason
    status, reason = await attempt({"organizationName": "my.org.9lives"}, bearer(token))
    assert status == 400 and "part '9lives' that does not start with a letter" in reason
    status, reason = await attempt({}, bearer(token))
    assert status == 400 and "organizationName is required" in reason
    viewer = await make_token("bob", "view")
    status, reason = await attempt({"organizationName": "bobs.org"}, bearer(viewer))
    assert status == 403 and "'modify' scope" in reason
    assert (await client.post(ORG, json={"organizationName": "anon.org"})).status == 401


async def test_unknown_organization_is_404_not_found(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view")
    response = await client.get(ORG, params={"name": "no.such.org"}, headers=bearer(token))
    reason = failure_reason(response.status, await response.json(), 404)
    assert reason == "Organization with name: 'no.such.org' not found"
    assert (await client.get(ORG, headers=bearer(token))).status == 400


async def test_list_pages_with_next_page_token(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view")
    alice = await services.auth.authenticate(token)
    organizations = OrganizationService(services.pool)
    names = [f"paged.org{i:03d}" for i in range(53)]
    for name in names:
        await organizations.create(alice, {"organizationName": name})

    seen: list[str] = []
    body: dict[str, object] = {"nextPageToken": None}
    pages = 0
    while True:
        response = await client.post(f"{ORG}/list", json=body, headers=bearer(token))
        assert response.status == 200
        page = await response.json()
        pages += 1
        seen += [org["name"] for org in page["page"]]
        if "nextPageToken" not in page:
            break
        body = {"nextPageToken": page["nextPageToken"]}
    assert (pages, seen) == (2, names)
    bad = await client.post(f"{ORG}/list", json={"nextPageToken": "zz"}, headers=bearer(token))
    assert bad.status == 400


async def test_delete_needs_delete_permission_and_no_schemas(
    client: TestClient, make_token: TokenFactory, run_jobs
) -> None:
    alice = await make_token("alice", "view", "modify")
    bob = await make_token("bob", "view", "modify")
    org = await create_org(client, alice, "doomed.org")
    status, _ = await create_schema(client, alice, run_jobs, {"$id": "doomed.org-Thing"})
    assert status == 201

    forbidden = await client.delete(f"{ORG}/{org['id']}", headers=bearer(bob))
    assert failure_reason(forbidden.status, await forbidden.json(), 403).startswith(
        "You lack DELETE permission"
    )
    refused = await client.delete(f"{ORG}/{org['id']}", headers=bearer(alice))
    reason = failure_reason(refused.status, await refused.json(), 400)
    assert "still holds 1 schema(s)" in reason

    gone = await client.delete(
        f"{BASE}/schema/type/registered/doomed.org-Thing", headers=bearer(alice)
    )
    assert gone.status == 204
    deleted = await client.delete(f"{ORG}/{org['id']}", headers=bearer(alice))
    assert deleted.status == 200 and await deleted.read() == b""
    lookup = await client.get(ORG, params={"name": "doomed.org"}, headers=bearer(alice))
    assert lookup.status == 404
    assert (await client.delete(f"{ORG}/{org['id']}", headers=bearer(alice))).status == 404
    assert (await client.delete(f"{ORG}/abc", headers=bearer(alice))).status == 404


async def test_acl_put_grants_create_and_guards_with_etag(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs
) -> None:
    alice = await make_token("alice", "view", "modify")
    bob = await make_token("bob", "view", "modify")
    alice_id = await services.auth.principal_id("alice")
    bob_id = await services.auth.principal_id("bob")
    org = await create_org(client, alice, "shared.org")
    acl_url = f"{ORG}/{org['id']}/acl"

    status, body = await create_schema(client, bob, run_jobs, {"$id": "shared.org-Bobs"})
    assert "You lack CREATE permission on the organization 'shared.org'" in failure_reason(
        status, body, 403
    )
    assert (await client.get(acl_url, headers=bearer(bob))).status == 403

    acl = await (await client.get(acl_url, headers=bearer(alice))).json()
    acl["resourceAccess"].append({"principalId": bob_id, "accessType": ["CREATE", "READ"]})
    put = await client.put(acl_url, json=acl, headers=bearer(alice))
    assert put.status == 200
    updated = await put.json()
    assert updated["etag"] != acl["etag"]
    assert {"principalId": bob_id, "accessType": ["CREATE", "READ"]} in updated["resourceAccess"]

    stale = await client.put(acl_url, json=acl, headers=bearer(alice))
    assert "changed since it was read" in failure_reason(stale.status, await stale.json(), 412)
    as_bob = await client.put(acl_url, json=updated, headers=bearer(bob))
    assert "CHANGE_PERMISSIONS" in failure_reason(as_bob.status, await as_bob.json(), 403)

    status, body = await create_schema(client, bob, run_jobs, {"$id": "shared.org-Bobs"})
    assert status == 201 and body["newVersionInfo"]["createdBy"] == str(bob_id)

    revoke_self = {**updated, "resourceAccess": [{"principalId": alice_id, "accessType": ["READ"]}]}
    response = await client.put(acl_url, json=revoke_self, headers=bearer(alice))
    assert "your own CHANGE_PERMISSIONS" in failure_reason(
        response.status, await response.json(), 400
    )
    stranger = {
        **updated,
        "resourceAccess": [
            *updated["resourceAccess"],
            {"principalId": 999999999, "accessType": ["READ"]},
        ],
    }
    response = await client.put(acl_url, json=stranger, headers=bearer(alice))
    assert "unknown principals: [999999999]" in failure_reason(
        response.status, await response.json(), 400
    )
    unknown_type = {**updated, "resourceAccess": [{"principalId": bob_id, "accessType": ["X"]}]}
    response = await client.put(acl_url, json=unknown_type, headers=bearer(alice))
    assert "unknown access types ['X']" in failure_reason(
        response.status, await response.json(), 400
    )


async def test_authenticated_users_group_grant_reaches_everyone(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs
) -> None:
    alice = await make_token("alice", "view", "modify")
    carol = await make_token("carol", "view", "modify")
    org = await create_org(client, alice, "open.org")
    acl_url = f"{ORG}/{org['id']}/acl"
    acl = await (await client.get(acl_url, headers=bearer(alice))).json()
    acl["resourceAccess"].append({"principalId": 273948, "accessType": ["CREATE"]})
    assert (await client.put(acl_url, json=acl, headers=bearer(alice))).status == 200
    status, _ = await create_schema(client, carol, run_jobs, {"$id": "open.org-Anyone"})
    assert status == 201
    # carol may create but not read the ACL: the group was granted CREATE only.
    assert (await client.get(acl_url, headers=bearer(carol))).status == 403


async def test_organization_service_rejects_non_object_bodies(services: Services) -> None:
    organizations = OrganizationService(services.pool)
    caller = Principal(1, "nobody", frozenset({"modify"}))
    for body in ([], "x", None):
        try:
            await organizations.create(caller, body)
        except Exception as error:
            assert getattr(error, "status", None) == 400
        else:
            raise AssertionError("a non-object body must be refused")
