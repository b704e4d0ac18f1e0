from __future__ import annotations

from aiohttp.test_utils import TestClient

from gateway.keys import SETTINGS
from tests.conftest import TokenFactory, bearer

SELFTEST = "/selftest/async/start"


async def test_malformed_json_is_400(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    response = await client.post(
        SELFTEST, data=b"{not json", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "Malformed JSON" in (await response.json())["error"]["message"]


async def test_wrong_content_type_is_415(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    response = await client.post(
        SELFTEST, data=b"{}", headers={**bearer(token), "Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_body_over_the_limit_is_413(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    limit = client.app[SETTINGS].max_body_bytes
    body = b'{"message": "' + b"x" * limit + b'"}'
    response = await client.post(
        SELFTEST, data=body, headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert response.status == 413
    assert "limit" in (await response.json())["error"]["message"]


async def test_invalid_field_is_400_and_nothing_is_recorded(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view")
    response = await client.post(SELFTEST, json={"sleepSeconds": "long"}, headers=bearer(token))
    assert response.status == 400
    assert "sleepSeconds" in (await response.json())["error"]["message"]


async def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status == 404
    assert (await response.json())["error"]["status"] == 404


async def test_every_response_has_a_request_id(client: TestClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "abc123"})
    assert response.headers["X-Request-Id"] == "abc123"


async def test_json_nested_too_deeply_is_400(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    body = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        SELFTEST, data=body, headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "nested too deeply" in (await response.json())["error"]["message"]
