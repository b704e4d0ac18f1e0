"""Odd input to ER reads and status logs is a 400, never a 500: edited continuation tokens
(text Postgres cannot store, numbers out of range) and dates outside what Postgres holds."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.graph.search import MAX_CLAUSES
from shared.services import Services
from shared.text import holds_unstorable_text
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, two_collections, upsert_ok


def token_for(position: Any) -> str:
    raw = json.dumps({"after": position}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
async def alice(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> tuple[str, str]:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    body = await upsert_ok(client, token, "entities", "august_14_81", [entity(ns, "e1", "AHU")])
    return token, body["transactionId"]


@pytest.mark.parametrize("position", ["\u0000", "\ud800", "a\u0000b"])
async def test_an_edited_entity_list_token_is_400(
    client: TestClient, alice: tuple[str, str], position: str
) -> None:
    token, _ = alice
    headers = {
        **bearer(token),
        "ercollectionid": "august_14_81",
        "continuationToken": token_for(position),
    }
    for kind in ("entities", "relationships"):
        response = await client.get(f"/apollo/er/{kind}", headers=headers)
        assert response.status == 400, await response.text()


@pytest.mark.parametrize("position", [10**30, -(10**30), True])
async def test_an_edited_status_log_token_is_400(
    client: TestClient, alice: tuple[str, str], position: Any
) -> None:
    token, transaction = alice
    headers = {**bearer(token), "continuationToken": token_for(position)}
    response = await client.get(f"/apollo/status/logs?transactionId={transaction}", headers=headers)
    assert response.status == 400, await response.text()


@pytest.mark.parametrize(
    "query",
    ["startTime=0001-01-01T00:00:00%2B14:00", "endTime=9999-12-31T23:59:59-14:00"],
)
async def test_a_time_postgres_cannot_hold_is_400(
    client: TestClient, alice: tuple[str, str], query: str
) -> None:
    token, _ = alice
    response = await client.get(f"/apollo/status/logs?{query}", headers=bearer(token))
    assert response.status == 400, await response.text()


def test_the_unstorable_text_check_walks_deep_values_without_recursing() -> None:
    deep: Any = "fine"
    for _ in range(5000):
        deep = {"k": [deep]}
    assert holds_unstorable_text(deep) is False
    assert holds_unstorable_text({"k": [deep, {"\u0000": 1}]}) is True


async def test_a_deeply_nested_item_is_judged_not_a_500(
    client: TestClient, alice: tuple[str, str]
) -> None:
    token, _ = alice
    deep = "[" * 600 + "]" * 600
    item = (
        '{"id": "deep", "entityName": "x", "entityType": "BRICK_0_4__AHU", "customData": {"d": %s}}'
    )
    response = await client.post(
        "/apollo/er/entities",
        data=f"[{item % deep}]",
        headers={
            **bearer(token),
            "ercollectionid": "august_14_81",
            "Content-Type": "application/json",
        },
    )
    body = await response.json()
    assert response.status == 207, body
    assert [s["id"] for s in body["data"]["responses"]["success"]] == ["deep"]


async def test_numbers_of_thousands_of_digits_are_400_everywhere(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    """int() refuses more than 4300 digits with a ValueError: each route says 400 instead."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    await upsert_ok(client, token, "entities", "c1", [entity(ns, "a", "AHU")])
    huge = "9" * 5000
    here = {**bearer(token), "erCollectionId": "c1"}
    for path, headers in (
        (f"/apollo/changefeed/logs?startSequenceId={huge}", here),
        (f"/apollo/changefeed/logs?endSequenceId={huge}", here),
        ("/apollo/changefeed/logs", {**here, "Accept": "text/event-stream", "Last-Event-ID": huge}),
        (f"/apollo/graph/entities(a)/reachable?maxDepth={huge}", here),
        ("/apollo/graph/entities", {**here, "first": huge}),
        (f"/apollo/graph/entities?size={huge}", here),
    ):
        response = await client.get(path, headers=headers)
        assert response.status == 400, (path, await response.text())


@pytest.mark.parametrize("clause", ["should", "must", "must_not"])
async def test_a_search_of_tens_of_thousands_of_clauses_is_400(
    client: TestClient, services: Services, make_token: TokenFactory, clause: str
) -> None:
    """Each clause was a bind parameter: past asyncpg's 32767 the search was a 500."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    await upsert_ok(client, token, "entities", "c1", [entity(ns, "a", "AHU")])
    clauses = [{"term": {"id": f"e{i}"}} for i in range(40_000)]
    for kind in ("entities", "relationships"):
        response = await client.post(
            f"/apollo/graph/{kind}/search/query",
            json={"query": {"bool": {clause: clauses}}},
            headers={**bearer(token), "erCollectionId": "c1"},
        )
        body = await response.json()
        assert response.status == 400, body
        assert "clauses" in body["status"]["message"]
    # The bool clause itself counts: MAX_CLAUSES in all still answers.
    within = [{"term": {"id": f"e{i}"}} for i in range(MAX_CLAUSES - 2)] + [{"term": {"id": "a"}}]
    response = await client.post(
        "/apollo/graph/entities/search/query",
        json={"query": {"bool": {clause: within}}},
        headers={**bearer(token), "erCollectionId": "c1"},
    )
    assert response.status == 200, await response.text()
    found = [e["id"] for e in (await response.json())["data"]]
    assert found == {"should": ["a"], "must": [], "must_not": []}[clause]
