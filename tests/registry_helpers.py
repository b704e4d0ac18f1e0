"""Shared steps of the registry tests: organizations, schema jobs, and what they answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import bearer

BASE = "/repo/v1"
CREATE_START = f"{BASE}/schema/type/create/async/start"
CREATE_GET = f"{BASE}/schema/type/create/async/get/"
VALIDATION_START = f"{BASE}/schema/type/validation/async/start"
VALIDATION_GET = f"{BASE}/schema/type/validation/async/get/"
CREATE_REQUEST = "org.sagebionetworks.repo.model.schema.CreateSchemaRequest"
VALIDATION_REQUEST = "org.sagebionetworks.repo.model.schema.GetValidationSchemaRequest"
ERROR_RESPONSE = "org.sagebionetworks.repo.model.ErrorResponse"
REGISTERED = "http://brickyard.test/repo/v1/schema/type/registered/"

RunJobs = Callable[[], Awaitable[None]]


async def create_org(client: TestClient, token: str, name: str) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/schema/organization", json={"organizationName": name}, headers=bearer(token)
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def start_create(
    client: TestClient, token: str, schema: dict[str, Any], dry_run: bool = False
) -> str:
    body = {"concreteType": CREATE_REQUEST, "schema": schema, "dryRun": dry_run}
    response = await client.post(CREATE_START, json=body, headers=bearer(token))
    assert response.status == 201, await response.text()
    return (await response.json())["token"]


async def outcome(
    client: TestClient, token: str, job_token: str, route: str = CREATE_GET
) -> tuple[int, dict[str, Any]]:
    response = await client.get(route + job_token, headers=bearer(token))
    return response.status, await response.json()


async def create_schema(
    client: TestClient, token: str, run_jobs: RunJobs, schema: dict[str, Any], **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """Start the create job, run it, and return what the get route answers."""
    job_token = await start_create(client, token, schema, **kwargs)
    await run_jobs()
    return await outcome(client, token, job_token)


async def register(
    client: TestClient, token: str, run_jobs: RunJobs, schema: dict[str, Any]
) -> dict[str, Any]:
    status, body = await create_schema(client, token, run_jobs, schema)
    assert status == 201, body
    return body


async def validation_schema(
    client: TestClient, token: str, run_jobs: RunJobs, schema_id: str
) -> tuple[int, dict[str, Any]]:
    body = {"concreteType": VALIDATION_REQUEST, "$id": schema_id}
    response = await client.post(VALIDATION_START, json=body, headers=bearer(token))
    assert response.status == 201, await response.text()
    job_token = (await response.json())["token"]
    await run_jobs()
    return await outcome(client, token, job_token, VALIDATION_GET)


def failure_reason(status: int, body: dict[str, Any], expected_status: int) -> str:
    assert status == expected_status, (status, body)
    assert body["concreteType"] == ERROR_RESPONSE, body
    return body["reason"]
