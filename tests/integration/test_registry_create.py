"""The create-schema job: the async protocol, each validation rule accepted and rejected."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import (
    CREATE_GET,
    CREATE_START,
    REGISTERED,
    VALIDATION_GET,
    RunJobs,
    create_org,
    create_schema,
    failure_reason,
    outcome,
    register,
    start_create,
)

ORG = "my.organization"


@pytest.fixture
async def alice(client: TestClient, make_token: TokenFactory) -> str:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    return token


async def test_start_answers_at_once_then_201_with_the_response(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    schema = {"$id": f"{ORG}-foo.Bar-0.1.2", "type": "object", "title": "Bar"}
    job_token = await start_create(client, alice, schema)
    row = await services.pool.fetchrow("SELECT kind, state FROM jobs WHERE token=$1", job_token)
    assert (row["kind"], row["state"]) == ("create_json_schema", "PROCESSING")
    status, pending = await outcome(client, alice, job_token)
    assert status == 202 and pending["jobState"] == "PROCESSING"
    assert pending["requestBody"]["schema"] == schema

    await run_jobs()
    status, body = await outcome(client, alice, job_token)
    assert status == 201
    assert body["concreteType"] == "org.sagebionetworks.repo.model.schema.CreateSchemaResponse"
    info = body["newVersionInfo"]
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    assert info == {
        "organizationId": info["organizationId"],
        "organizationName": ORG,
        "schemaId": info["schemaId"],
        "schemaName": "foo.Bar",
        "versionId": info["versionId"],
        "$id": f"{ORG}-foo.Bar-0.1.2",
        "semanticVersion": "0.1.2",
        "jsonSHA256Hex": hashlib.sha256(canonical.encode()).hexdigest(),
        "createdOn": info["createdOn"],
        "createdBy": str(await services.auth.principal_id("alice")),
    }
    assert all(info[k].isdigit() for k in ("organizationId", "schemaId", "versionId"))
    assert body["validationSchema"] == {**schema, "$id": f"{REGISTERED}{ORG}-foo.Bar-0.1.2"}
    # The same token through the generic job route: 200 with the same result.
    generic = await client.get(f"/async/get/{job_token}", headers=bearer(alice))
    assert generic.status == 200 and await generic.json() == body


async def test_token_routes_check_owner_and_kind(
    client: TestClient, alice: str, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    job_token = await start_create(client, alice, {"$id": f"{ORG}-Thing"})
    bob = await make_token("bob", "view", "modify")
    assert (await outcome(client, bob, job_token))[0] == 403
    assert (await outcome(client, alice, "0" * 32))[0] == 404
    status, body = await outcome(client, alice, job_token, VALIDATION_GET)
    assert "No get_validation_schema job" in failure_reason(status, body, 404)
    viewer = await make_token("viewer", "view")
    refused = await client.post(CREATE_START, json={"schema": {}}, headers=bearer(viewer))
    assert refused.status == 403


async def test_any_json_object_is_accepted_and_the_job_reports_what_is_wrong(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    # A body that is not an object at all is a 400 at once (tests/integration/test_job_input.py).
    cases: list[tuple[Any, str]] = [
        ({"schema": "x"}, "'schema' is required and must be a JSON object"),
        ({"schema": {"type": "string"}}, "schema.$id is required"),
        ({"schema": {"$id": f"{ORG}-X"}, "dryRun": "yes"}, "dryRun must be true or false"),
        ({"concreteType": "x.Other", "schema": {"$id": f"{ORG}-X"}}, "concreteType must be"),
    ]
    tokens = []
    for body, _ in cases:
        response = await client.post(CREATE_START, json=body, headers=bearer(alice))
        assert response.status == 201
        tokens.append((await response.json())["token"])
    await run_jobs()
    for job_token, (_, says) in zip(tokens, cases, strict=True):
        status, body = await outcome(client, alice, job_token)
        assert says in failure_reason(status, body, 400)


@pytest.mark.parametrize(
    ("schema_id", "says"),
    [
        ("my.organization-Thing-1.2.03", "leading zero in '03'"),
        ("my.organization-Thing-", "ends with '-' but no semantic version follows"),
        ("my.organization-Thing.", "schema name 'Thing.' has an empty part"),
        ("my.organization-foo.123.bar", "part '123' that does not start with a letter"),
        ("1abc", "organization name '1abc' has a part '1abc'"),
        ("org.valid-name-0", "semantic version '0' must start with MAJOR.MINOR.PATCH"),
    ],
)
async def test_invalid_ids_fail_the_job(
    client: TestClient, alice: str, run_jobs: RunJobs, schema_id: str, says: str
) -> None:
    status, body = await create_schema(client, alice, run_jobs, {"$id": schema_id})
    reason = failure_reason(status, body, 400)
    assert says in reason and f"Invalid $id '{schema_id}'" in reason


async def test_absolute_id_registers_the_text_after_the_last_slash(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    absolute = f"https://repo-prod.prod.sagebase.org/repo/v1/schema/type/registered/{ORG}-Abs"
    body = await register(client, alice, run_jobs, {"$id": absolute, "type": "string"})
    assert body["newVersionInfo"]["$id"] == f"{ORG}-Abs"
    registered = await client.get(
        f"/repo/v1/schema/type/registered/{ORG}-Abs", headers=bearer(alice)
    )
    assert (await registered.json())["$id"] == f"{REGISTERED}{ORG}-Abs"


async def test_organization_must_exist_and_grant_create(
    client: TestClient, alice: str, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    status, body = await create_schema(client, alice, run_jobs, {"$id": "no.such.org-Thing"})
    assert failure_reason(status, body, 404) == "Organization with name: 'no.such.org' not found"
    bob = await make_token("bob", "view", "modify")
    status, body = await create_schema(client, bob, run_jobs, {"$id": f"{ORG}-Thing"})
    assert "lack CREATE permission" in failure_reason(status, body, 403)


async def test_body_must_be_a_valid_json_schema(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    schema = {"$id": f"{ORG}-Bad", "properties": {"age": {"type": "number", "minimum": "3"}}}
    status, body = await create_schema(client, alice, run_jobs, schema)
    reason = failure_reason(status, body, 400)
    assert "not a valid JSON Schema (draft-07)" in reason and "/properties/age/minimum" in reason


async def test_refs_must_be_local_or_registered(
    client: TestClient, alice: str, run_jobs: RunJobs
) -> None:
    local = {
        "$id": f"{ORG}-Local",
        "definitions": {"name": {"type": "string"}},
        "properties": {"a": {"$ref": "#/definitions/name"}, "self": {"$ref": "#"}},
    }
    await register(client, alice, run_jobs, local)
    await register(client, alice, run_jobs, {"$id": f"{ORG}-Other", "type": "integer"})
    uses = {"$id": f"{ORG}-Uses", "properties": {"o": {"$ref": f"{ORG}-Other"}}}
    await register(client, alice, run_jobs, uses)

    missing = {"$id": f"{ORG}-Broken", "properties": {"m": {"$ref": f"{ORG}-Missing"}}}
    status, body = await create_schema(client, alice, run_jobs, missing)
    reason = failure_reason(status, body, 404)
    assert f"$ref '{ORG}-Missing' at /properties/m: schema '{ORG}-Missing' not found" in reason
    pinned = {"$id": f"{ORG}-Broken", "items": {"$ref": f"{ORG}-Other-9.9.9"}}
    status, body = await create_schema(client, alice, run_jobs, pinned)
    assert "has no version '9.9.9'" in failure_reason(status, body, 404)
    foreign = {"$id": f"{ORG}-Broken", "items": {"$ref": "http://example.com/a.json"}}
    status, body = await create_schema(client, alice, run_jobs, foreign)
    assert "at /items is neither local" in failure_reason(status, body, 400)
    dangling = {"$id": f"{ORG}-Broken", "items": {"$ref": "#/definitions/none"}}
    status, body = await create_schema(client, alice, run_jobs, dangling)
    assert "points to nothing in this schema" in failure_reason(status, body, 400)


async def test_semver_is_immutable_and_needs_pinned_refs(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    base = await register(client, alice, run_jobs, {"$id": f"{ORG}-Base-1.0.0", "type": "string"})
    status, body = await create_schema(
        client, alice, run_jobs, {"$id": f"{ORG}-Base-1.0.0", "type": "integer"}
    )
    assert "'my.organization-Base-1.0.0' already exists" in failure_reason(status, body, 400)
    # Unversioned creates always add a version; only semantic versions are immutable.
    first = await register(client, alice, run_jobs, {"$id": f"{ORG}-Base", "type": "integer"})
    assert int(first["newVersionInfo"]["versionId"]) > int(base["newVersionInfo"]["versionId"])

    unpinned = {"$id": f"{ORG}-User-1.0.0", "properties": {"b": {"$ref": f"{ORG}-Base"}}}
    status, body = await create_schema(client, alice, run_jobs, unpinned)
    reason = failure_reason(status, body, 400)
    assert f"does not include a semantic version: '{ORG}-Base' (at /properties/b)" in reason
    pinned = {"$id": f"{ORG}-User-1.0.0", "properties": {"b": {"$ref": f"{ORG}-Base-1.0.0"}}}
    await register(client, alice, run_jobs, pinned)
    count = await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions")
    assert count == 3


async def test_circular_dependencies_are_rejected(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    await register(client, alice, run_jobs, {"$id": f"{ORG}-A", "type": "object"})
    await register(client, alice, run_jobs, {"$id": f"{ORG}-B", "items": {"$ref": f"{ORG}-A"}})
    cycle = {"$id": f"{ORG}-A", "properties": {"b": {"$ref": f"{ORG}-B"}}}
    status, body = await create_schema(client, alice, run_jobs, cycle)
    reason = failure_reason(status, body, 400)
    assert f"circular dependency: {ORG}-A -> {ORG}-B -> {ORG}-A" in reason
    selfish = {"$id": f"{ORG}-A", "properties": {"me": {"$ref": f"{ORG}-A"}}}
    status, body = await create_schema(client, alice, run_jobs, selfish)
    assert "circular dependency" in failure_reason(status, body, 400)
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions") == 2


async def test_dry_run_validates_and_keeps_nothing(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    schema = {"$id": f"{ORG}-Dry-1.0.0", "type": "string"}
    status, body = await create_schema(client, alice, run_jobs, schema, dry_run=True)
    assert status == 201 and body["newVersionInfo"]["$id"] == f"{ORG}-Dry-1.0.0"
    assert body["validationSchema"]["type"] == "string"
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schemas") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions") == 0
    status, body = await create_schema(
        client, alice, run_jobs, {"$id": f"{ORG}-Dry-1.0.0"}, dry_run=True
    )
    assert status == 201  # nothing was kept, so the same semantic version is free again
    bad = {"$id": f"{ORG}-Dry", "type": "nope"}
    status, body = await create_schema(client, alice, run_jobs, bad, dry_run=True)
    assert failure_reason(status, body, 400) == (
        "The schema is not a valid JSON Schema (draft-07): 'nope' is not valid under any of "
        "the given schemas (at /type)"
    )
    for table in ("registry_schemas", "registry_schema_versions", "registry_dependencies"):
        assert await services.pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_a_job_delivered_again_registers_one_version(
    client: TestClient, alice: str, services: Services, run_jobs: RunJobs
) -> None:
    job_token = await start_create(client, alice, {"$id": f"{ORG}-Once"})
    await run_jobs()
    # A duplicate delivery after completion does nothing (racing deliveries: concurrency tests).
    await services.redis.enqueue_job("create_json_schema", job_token, _job_id=f"{job_token}-2")
    await run_jobs()
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions") == 1
    status, body = await outcome(client, alice, job_token, CREATE_GET)
    assert status == 201 and body["newVersionInfo"]["$id"] == f"{ORG}-Once"
