"""ER collections: registration, the 403 of the seed, roles and the access list."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    create_schema_collection,
    entity,
    post_items,
    put_grants,
    register,
)

ACL = "/apollo/er/ercollections/site_a/acl"


async def test_register_makes_the_creator_owner(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await create_schema_collection(services.pool, "Brick_1_4")
    response = await register(client, token, "site_a", "brick_1_4")
    body = await response.json()
    assert response.status == 201
    assert body["status"]["code"] == "201"
    assert body["data"]["erCollectionId"] == "site_a"
    assert body["data"]["schemaCollectionId"] == "Brick_1_4"
    assert body["data"]["role"] == "owner"
    assert (await register(client, token, "SITE_A", "Brick_1_4")).status == 409
    assert (await register(client, token, "site_b", "Brick_9_9")).status == 404
    assert (await register(client, token, "bad id!", "Brick_1_4")).status == 400
    writer = await make_token("walter", "apollo_read", "apollo_write")
    assert (await register(client, writer, "site_c", "Brick_1_4")).status == 403
    listed = await client.get("/apollo/er/ercollections", headers=bearer(token))
    assert [c["erCollectionId"] for c in (await listed.json())["data"]] == ["site_a"]


async def test_unregistered_or_foreign_collection_is_403_with_the_seed_meaning(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await create_schema_collection(services.pool, "Brick_1_4")
    await register(client, alice, "site_a", "Brick_1_4")
    for token, name in ((alice, "nowhere"), (bob, "site_a")):
        response = await post_items(client, token, "entities", name, [entity(ns, "e", "AHU")])
        assert response.status == 403
        assert (await response.json())["status"]["message"] == (
            f"ercollectionid '{name}' is not registered or the caller has no access to it"
        )
        reading = await client.get(
            "/apollo/er/entities", headers={**bearer(token), "ercollectionid": name}
        )
        assert reading.status == 403


async def test_roles_gate_reads_writes_and_the_access_list(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", *ALL_SCOPES)
    ns = await create_schema_collection(services.pool, "Brick_1_4")
    await register(client, alice, "site_a", "Brick_1_4")
    await put_grants(client, alice, "site_a", bob="readonly")
    in_site = {**bearer(bob), "ercollectionid": "site_a"}
    assert (await client.get("/apollo/er/entities", headers=in_site)).status == 200
    write = await post_items(client, bob, "entities", "site_a", [entity(ns, "e", "AHU")])
    assert write.status == 403
    assert (await client.get(ACL, headers=bearer(bob))).status == 403

    await put_grants(client, alice, "site_a", bob="readwrite")
    write = await post_items(client, bob, "entities", "site_a", [entity(ns, "e", "AHU")])
    assert write.status == 207

    # An admin manages the list but may not add or remove owners.
    await put_grants(client, alice, "site_a", bob="admin")
    acl = await client.get(ACL, headers=bearer(bob))
    grants = (await acl.json())["data"]["grants"]
    assert [(g["principal"], g["role"]) for g in grants] == [("alice", "owner"), ("bob", "admin")]
    as_owner = [{"principal": "alice", "role": "owner"}, {"principal": "bob", "role": "owner"}]
    denied = await client.put(ACL, json={"grants": as_owner}, headers=bearer(bob))
    assert denied.status == 403
    carol = [*grants[:2], {"principal": "carol", "role": "readonly"}]
    carol = [{"principal": g["principal"], "role": g["role"]} for g in carol]
    added = await client.put(ACL, json={"grants": carol}, headers=bearer(bob))
    assert added.status == 200
    assert len((await added.json())["data"]["grants"]) == 3

    ownerless = await client.put(
        ACL, json={"grants": [{"principal": "bob", "role": "admin"}]}, headers=bearer(alice)
    )
    assert ownerless.status == 400
    bad_role = [{"principal": "alice", "role": "owner"}, {"principal": "x", "role": "god"}]
    assert (await client.put(ACL, json={"grants": bad_role}, headers=bearer(alice))).status == 400

    # Removing bob's grant removes his access.
    await put_grants(client, alice, "site_a")
    assert (await client.get("/apollo/er/entities", headers=in_site)).status == 403
