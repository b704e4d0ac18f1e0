"""Registered schemas: get, delete, lists, and the validation schema (bundling)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import (
    BASE,
    REGISTERED,
    RunJobs,
    create_org,
    failure_reason,
    register,
    validation_schema,
)

ORG = "my.organization"
REG = f"{BASE}/schema/type/registered/"


@pytest.fixture
async def alice(client: TestClient, make_token: TokenFactory) -> str:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    return token


async def test_get_by_id_with_and_without_version(
    client: TestClient, alice: str, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    one = {"$id": f"{ORG}-Pet-1.0.0", "type": "object", "required": ["name"]}
    two = {"$id": f"{ORG}-Pet-2.0.0", "type": "object", "required": ["name", "kind"]}
    await register(client, alice, run_jobs, one)
    await register(client, alice, run_jobs, two)
    viewer = await make_token("viewer", "view")  # schemas are readable by anyone with view

    async def get(schema_id: str) -> tuple[int, dict[str, object]]:
        response = await client.get(REG + schema_id, headers=bearer(viewer))
        return response.status, await response.json()

    assert await get(f"{ORG}-Pet-1.0.0") == (200, {**one, "$id": f"{REGISTERED}{ORG}-Pet-1.0.0"})
    assert await get(f"{ORG}-Pet") == (200, {**two, "$id": f"{REGISTERED}{ORG}-Pet"})
    assert (await get(f"{REGISTERED}{ORG}-Pet-1.0.0"))[1]["required"] == ["name"]
    status, body = await get(f"{ORG}-Pet-3.0.0")
    assert "has no version '3.0.0'" in failure_reason(status, body, 404)
    status, body = await get(f"{ORG}-Cat")
    assert "schema 'my.organization-Cat' not found" in failure_reason(status, body, 404)
    status, body = await get("my.organization-Pet-01.0.0")
    assert "leading zero" in failure_reason(status, body, 400)


async def test_lists_of_schemas_and_versions_page(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    for name in ("Alpha", "Beta"):
        await register(client, alice, run_jobs, {"$id": f"{ORG}-{name}"})
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Alpha-1.0.0"})
    response = await client.post(
        f"{BASE}/schema/list", json={"organizationName": ORG}, headers=bearer(alice)
    )
    page = await response.json()
    assert response.status == 200 and "nextPageToken" not in page
    assert [(s["schemaName"], s["organizationName"]) for s in page["page"]] == [
        ("Alpha", ORG),
        ("Beta", ORG),
    ]
    assert set(page["page"][0]) == {
        "organizationId",
        "organizationName",
        "schemaId",
        "schemaName",
        "createdOn",
        "createdBy",
    }
    # 51 more versions: the version list pages at 50.
    for _ in range(51):
        await services.pool.execute(
            """INSERT INTO registry_schema_versions (schema_id, body, sha256_hex, created_by)
               SELECT schema_id, body, sha256_hex, created_by FROM registry_schema_versions
               WHERE semantic_version = '1.0.0'"""
        )
    request = {"organizationName": ORG, "schemaName": "alpha"}
    versions: list[dict[str, object]] = []
    while True:
        response = await client.post(
            f"{BASE}/schema/version/list", json=request, headers=bearer(alice)
        )
        assert response.status == 200
        body = await response.json()
        versions += body["page"]
        if "nextPageToken" not in body:
            break
        request["nextPageToken"] = body["nextPageToken"]
    assert len(versions) == 53
    ids = [int(v["versionId"]) for v in versions]
    assert ids == sorted(ids)
    assert versions[1]["semanticVersion"] == "1.0.0" and "semanticVersion" not in versions[0]
    assert versions[1]["$id"] == f"{ORG}-Alpha-1.0.0" and versions[0]["$id"] == f"{ORG}-Alpha"

    for path, body, status in [
        ("schema/list", {"organizationName": "no.such.org"}, 404),
        ("schema/list", {}, 400),
        ("schema/version/list", {"organizationName": ORG, "schemaName": "Gamma"}, 404),
    ]:
        response = await client.post(f"{BASE}/{path}", json=body, headers=bearer(alice))
        assert response.status == status, (path, body)


async def test_delete_version_or_all_refused_while_referenced(
    client: TestClient, alice: str, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Base-1.0.0", "type": "string"})
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Base-2.0.0", "type": "string"})
    user = {"$id": f"{ORG}-User-1.0.0", "items": {"$ref": f"{ORG}-Base-1.0.0"}}
    await register(client, alice, run_jobs, user)
    latest_user = {"$id": f"{ORG}-Latest", "items": {"$ref": f"{ORG}-Base"}}
    await register(client, alice, run_jobs, latest_user)

    async def delete(schema_id: str, token: str = alice) -> tuple[int, dict[str, object]]:
        response = await client.delete(REG + schema_id, headers=bearer(token))
        return response.status, (await response.json() if response.status != 204 else {})

    status, body = await delete(f"{ORG}-Base-1.0.0")
    reason = failure_reason(status, body, 400)
    assert f"Cannot delete '{ORG}-Base-1.0.0': it is referenced by '{ORG}-User-1.0.0'" in reason
    status, body = await delete(f"{ORG}-Base-2.0.0")  # the latest, which Latest resolves to
    assert f"referenced by '{ORG}-Latest' (versionId" in failure_reason(status, body, 400)
    status, body = await delete(f"{ORG}-Base")
    assert "Cannot delete every version of" in failure_reason(status, body, 400)
    bob = await make_token("bob", "view", "modify")
    status, body = await delete(f"{ORG}-User-1.0.0", bob)
    assert "lack DELETE permission" in failure_reason(status, body, 403)

    assert (await delete(f"{ORG}-Latest"))[0] == 204
    assert (await delete(f"{ORG}-Base-2.0.0"))[0] == 204
    assert (await delete(f"{ORG}-User-1.0.0"))[0] == 204
    assert (await delete(f"{ORG}-Base"))[0] == 204
    status, body = await delete(f"{ORG}-Base")
    assert "not found" in failure_reason(status, body, 404)
    response = await client.post(
        f"{BASE}/schema/list", json={"organizationName": ORG}, headers=bearer(alice)
    )
    assert (await response.json())["page"] == []


async def test_deleting_the_last_version_removes_the_schema(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Solo-1.0.0"})
    response = await client.delete(REG + f"{ORG}-Solo-1.0.0", headers=bearer(alice))
    assert response.status == 204
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schemas") == 0


async def test_validation_schema_bundles_refs_transitively_and_validates_alone(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    name = {
        "$id": f"{ORG}-Name-1.0.0",
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"word": {"type": "string", "minLength": 1}},
        "type": "object",
        "properties": {"first": {"$ref": "#/definitions/word"}},
        "required": ["first"],
    }
    address = {"$id": f"{ORG}-Address", "type": "object", "required": ["city"]}
    person = {
        "$id": f"{ORG}-Person",
        "type": "object",
        "definitions": {"age": {"type": "integer", "minimum": 0}},
        "properties": {
            "name": {"$ref": f"{ORG}-Name-1.0.0"},
            "home": {"$ref": f"{ORG}-Address"},
            "age": {"$ref": "#/definitions/age"},
        },
    }
    team = {
        "$id": f"{ORG}-Team",
        "type": "array",
        "items": {"$ref": f"{ORG}-Person"},
        "contains": {"properties": {"name": {"$ref": f"{ORG}-Name-1.0.0"}}},
    }
    for schema in (name, address, person):
        await register(client, alice, run_jobs, schema)
    created = await register(client, alice, run_jobs, team)

    status, body = await validation_schema(client, alice, run_jobs, f"{ORG}-Team")
    assert status == 201
    assert body["concreteType"].endswith("GetValidationSchemaResponse")
    bundled = body["validationSchema"]
    assert bundled == created["validationSchema"]
    assert bundled["$id"] == f"{REGISTERED}{ORG}-Team"
    assert bundled["items"] == {"$ref": f"#/definitions/{ORG}-Person"}
    definitions = bundled["definitions"]
    assert set(definitions) == {f"{ORG}-Person", f"{ORG}-Name-1.0.0", f"{ORG}-Address"}
    embedded_person = definitions[f"{ORG}-Person"]
    assert "$id" not in embedded_person
    assert embedded_person["properties"]["age"] == {
        "$ref": f"#/definitions/{ORG}-Person/definitions/age"
    }
    assert embedded_person["properties"]["name"] == {"$ref": f"#/definitions/{ORG}-Name-1.0.0"}

    validator = Draft7Validator(bundled)
    validator.validate([{"name": {"first": "Ada"}, "home": {"city": "X"}, "age": 36}])
    for bad in (
        [{"name": {"first": ""}}],
        [{"name": {}}],
        [{"home": {}}],
        [{"age": -1}],
        [{"name": {"first": 5}}],
    ):
        with pytest.raises(ValidationError):
            validator.validate(bad)


async def test_validation_schema_follows_latest_and_a_2020_12_root(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Code", "type": "string"})
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{ORG}-Holder",
        "$defs": {"n": {"type": "number"}},
        "properties": {"code": {"$ref": f"{ORG}-Code"}, "n": {"$ref": "#/$defs/n"}},
    }
    await register(client, alice, run_jobs, root)
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Code", "type": "integer"})
    status, body = await validation_schema(client, alice, run_jobs, f"{ORG}-Holder")
    assert status == 201
    bundled = body["validationSchema"]
    assert bundled["definitions"][f"{ORG}-Code"] == {"type": "integer"}  # the latest
    validator = Draft202012Validator(bundled)
    validator.validate({"code": 7, "n": 1.5})
    with pytest.raises(ValidationError):
        validator.validate({"code": "seven"})


async def test_validation_job_failures(
    client: TestClient, alice: str, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    status, body = await validation_schema(client, alice, run_jobs, f"{ORG}-Nothing")
    assert "not found" in failure_reason(status, body, 404)
    status, body = await validation_schema(client, alice, run_jobs, "bad id")
    assert "Invalid $id 'bad id'" in failure_reason(status, body, 400)
    viewer = await make_token("viewer", "view")
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Open", "type": "string"})
    status, body = await validation_schema(client, viewer, run_jobs, f"{ORG}-Open")
    assert status == 201 and body["validationSchema"]["type"] == "string"
