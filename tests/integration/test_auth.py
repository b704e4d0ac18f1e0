from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer

SELFTEST = "/selftest/async/start"


async def test_missing_token_is_401(client: TestClient) -> None:
    response = await client.get("/async/get/whatever")
    assert response.status == 401
    assert "Bearer" in (await response.json())["error"]["message"]


async def test_unknown_token_is_401(client: TestClient) -> None:
    response = await client.get("/async/get/x", headers=bearer("not-a-real-token"))
    assert response.status == 401


async def test_non_bearer_scheme_is_401(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view")
    response = await client.get("/async/get/x", headers={"Authorization": f"Basic {token}"})
    assert response.status == 401


async def test_expired_token_is_401(client: TestClient, make_token: TokenFactory) -> None:
    token = await make_token("alice", "view", expires_in_s=1)
    assert (await client.get("/async/get/x", headers=bearer(token))).status == 404
    await asyncio.sleep(1.1)
    assert (await client.get("/async/get/x", headers=bearer(token))).status == 401


async def test_revoked_token_is_401(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view")
    assert (await client.get("/async/get/x", headers=bearer(token))).status == 404
    await services.auth.revoke_token(token)
    assert (await client.get("/async/get/x", headers=bearer(token))).status == 401


async def test_tokens_are_stored_only_as_hashes(
    make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view")
    stored = await services.pool.fetch("SELECT token_sha256 FROM access_tokens")
    assert token.startswith("bky_") and len(token) >= 4 + 43  # 32 random bytes, url-safe base64
    assert [r["token_sha256"] for r in stored] != [token]
    assert all(token not in r["token_sha256"] for r in stored)


async def test_principals_keep_one_numeric_id(services: Services) -> None:
    first = await services.auth.ensure_principal("bob")
    assert await services.auth.ensure_principal("bob") == first
    assert await services.auth.ensure_principal("carol") != first


async def test_healthz_and_readyz_need_no_token(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    body = await ready.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"postgres", "redis", "migrations"}


async def test_unknown_scope_is_refused(services: Services) -> None:
    from shared.errors import BadRequest

    try:
        await services.auth.create_token("alice", ["root"])
    except BadRequest as error:
        assert "root" in error.message
    else:
        raise AssertionError("an unknown scope must be refused")
