"""A continuation token sent as a query parameter pages like the header the Apollo pages use.

The body carries the next page's token (``paging.continuationToken``); the pages send it back in
the ``continuationToken`` header. A client that put it in the query string (where ``size`` goes)
got page 1 again, with the same token, so a loop until the token is null never ended (issue 22).
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, two_collections, upsert_ok

HERE = "august_14_81"


async def walk(
    client: TestClient, token: str, path: str, first_query: str, **headers: str
) -> list[str]:
    """Follow the body's continuationToken in the query string, at most 10 pages."""
    seen: list[str] = []
    query = first_query
    for _ in range(10):
        response = await client.get(
            f"{path}?{query}", headers={**bearer(token), "ercollectionid": HERE, **headers}
        )
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        seen += [item["id"] for item in body["data"]]
        continuation = body["paging"]["continuationToken"]
        if continuation is None:
            return seen
        query = f"{first_query}&continuationToken={continuation}"
    raise AssertionError(f"still paging after 10 pages: {seen}")


async def five_entities(client: TestClient, services: Services, make_token: TokenFactory) -> str:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await upsert_ok(client, token, "entities", HERE, [entity(ns, f"e{i}", "AHU") for i in range(5)])
    return token


async def test_er_list_pages_with_the_token_as_a_query_parameter(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await five_entities(client, services, make_token)
    assert await walk(client, token, "/apollo/er/entities", "size=2") == [
        "e0", "e1", "e2", "e3", "e4",
    ]  # fmt: skip


async def test_graph_list_pages_with_the_token_as_a_query_parameter(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await five_entities(client, services, make_token)
    seen = await walk(client, token, "/apollo/graph/entities", "v=1.2", first="2", after="0")
    assert sorted(seen) == ["e0", "e1", "e2", "e3", "e4"]


async def test_a_token_in_both_places_must_be_the_same(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await five_entities(client, services, make_token)
    headers = {**bearer(token), "ercollectionid": HERE}
    first = await (await client.get("/apollo/er/entities?size=2", headers=headers)).json()
    continuation = first["paging"]["continuationToken"]
    same = await client.get(
        f"/apollo/er/entities?size=2&continuationToken={continuation}",
        headers={**headers, "continuationToken": continuation},
    )
    assert [item["id"] for item in (await same.json())["data"]] == ["e2", "e3"]
    differing = await client.get(
        "/apollo/er/entities?size=2&continuationToken=other",
        headers={**headers, "continuationToken": continuation},
    )
    body = await differing.json()
    assert differing.status == 400
    assert "differ" in body["status"]["message"]
    forged = await client.get("/apollo/er/entities?size=2&continuationToken=x.y", headers=headers)
    assert forged.status == 400
