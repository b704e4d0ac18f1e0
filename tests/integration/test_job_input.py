"""Bad input to the job routes is a clear 400 (or 404 for a token that names no job) in the
route family's error format: never a 500, and never an accepted job."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.registry_helpers import (
    CREATE_GET,
    CREATE_REQUEST,
    CREATE_START,
    ERROR_RESPONSE,
    VALIDATION_GET,
    VALIDATION_START,
)

SELFTEST = "/selftest/async/start"
SCHEMA = '{"$id": "my.organization-Thing-1.0.0", "type": "object", "description": %s}'


async def post_raw(client: TestClient, token: str, path: str, body: bytes) -> ClientResponse:
    headers = {**bearer(token), "Content-Type": "application/json"}
    return await client.post(path, data=body, headers=headers)


async def generic_error(response: ClientResponse, status: int) -> str:
    body = await response.json()
    assert response.status == status, body
    assert body["error"]["status"] == status
    return body["error"]["message"]


async def synapse_error(response: ClientResponse, status: int) -> str:
    body = await response.json()
    assert response.status == status, body
    assert body["concreteType"] == ERROR_RESPONSE
    return body["reason"]


async def job_count(services: Services) -> int:
    return await services.pool.fetchval("SELECT count(*) FROM jobs")


@pytest.fixture
async def token(make_token: TokenFactory) -> str:
    return await make_token("alice", "view", "modify")


@pytest.mark.parametrize(
    ("number", "complaint"),
    [
        ("NaN", "not a JSON number"),
        ("Infinity", "not a JSON number"),
        ("-Infinity", "not a JSON number"),
        ("1e400", "too large"),
        ("-1e400", "too large"),
        ("1" * 5000, "too many digits"),
    ],
)
async def test_numbers_postgres_json_cannot_hold_are_400(
    client: TestClient, services: Services, token: str, number: str, complaint: str
) -> None:
    selftest = f'{{"message": "hi", "sleepSeconds": {number}}}'.encode()
    message = await generic_error(await post_raw(client, token, SELFTEST, selftest), 400)
    assert complaint in message
    create = f'{{"concreteType": "{CREATE_REQUEST}", "schema": {SCHEMA % number}}}'.encode()
    reason = await synapse_error(await post_raw(client, token, CREATE_START, create), 400)
    assert complaint in reason
    assert await job_count(services) == 0


async def test_a_small_float_and_a_long_integer_under_the_limit_are_fine(
    client: TestClient, services: Services, token: str
) -> None:
    create = f'{{"schema": {SCHEMA % "1e-400"}, "x": {"9" * 4000}}}'.encode()
    response = await post_raw(client, token, CREATE_START, create)
    assert response.status == 201, await response.text()
    assert await job_count(services) == 1


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"a\\u0000b"'])
async def test_text_postgres_cannot_store_in_a_job_request_is_400(
    client: TestClient, services: Services, token: str, text: str
) -> None:
    selftest = f'{{"message": {text}}}'.encode()
    message = await generic_error(await post_raw(client, token, SELFTEST, selftest), 400)
    assert "cannot be stored" in message
    create = f'{{"concreteType": "{CREATE_REQUEST}", "schema": {SCHEMA % text}}}'.encode()
    reason = await synapse_error(await post_raw(client, token, CREATE_START, create), 400)
    assert "cannot be stored" in reason
    validation = f'{{"$id": {text}}}'.encode()
    reason = await synapse_error(await post_raw(client, token, VALIDATION_START, validation), 400)
    assert "cannot be stored" in reason
    assert await job_count(services) == 0


@pytest.mark.parametrize("body", [b'"a schema"', b"42", b"null", b"[]", b"true"])
@pytest.mark.parametrize("path", [CREATE_START, VALIDATION_START])
async def test_a_synapse_job_request_that_is_not_an_object_is_400(
    client: TestClient, services: Services, token: str, path: str, body: bytes
) -> None:
    reason = await synapse_error(await post_raw(client, token, path, body), 400)
    assert "must be a JSON object" in reason
    assert await job_count(services) == 0


@pytest.mark.parametrize(
    "token_text", ["ab%00cd", "%00", "ABCDEF0123456789ABCDEF0123456789", "x" * 5000]
)
async def test_a_job_token_of_the_wrong_shape_names_no_job(
    client: TestClient, token: str, token_text: str
) -> None:
    headers = bearer(token)
    response = await client.get(f"/async/get/{token_text}", headers=headers)
    assert "No job has that token" in await generic_error(response, 404)
    for route in (CREATE_GET, VALIDATION_GET):
        response = await client.get(f"{route}{token_text}", headers=headers)
        assert "No job has that token" in await synapse_error(response, 404)


async def test_a_well_formed_token_of_no_job_is_still_404(client: TestClient, token: str) -> None:
    unknown = "0" * 32
    response = await client.get(f"/async/get/{unknown}", headers=bearer(token))
    assert unknown in await generic_error(response, 404)
    body: Any = await (await client.get(f"{CREATE_GET}{unknown}", headers=bearer(token))).json()
    assert body["concreteType"] == ERROR_RESPONSE
