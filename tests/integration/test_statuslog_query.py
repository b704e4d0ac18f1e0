"""GET /apollo/status/logs: filters, case-insensitive names, paging, visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, put_grants, two_collections

LOGS = "/apollo/status/logs"


async def batch(client: TestClient, token: str, ns: str, correlation: str | None = None) -> str:
    items = [entity(ns, f"e{i}", "AHU") for i in range(5)] + [entity(ns, "bad", "Nope")]
    headers = {**bearer(token), "ercollectionid": "august_14_81", "async": "false"}
    if correlation:
        headers["correlationId"] = correlation
    response = await client.post("/apollo/er/entities", json=items, headers=headers)
    assert response.status == 207
    return (await response.json())["transactionId"]


async def test_filters_are_case_insensitive_and_pages_follow_the_token(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    transaction = await batch(client, token, ns, correlation="trace-42")
    for name in ("transactionId", "TRANSACTIONID", "transactionid"):
        response = await client.get(f"{LOGS}?{name}={transaction}", headers=bearer(token))
        body = await response.json()
        assert response.status == 200 and body["paging"]["totalCount"] == 6

    seen, continuation = [], None
    while True:
        headers = bearer(token) | ({"continuationToken": continuation} if continuation else {})
        response = await client.get(f"{LOGS}?transactionId={transaction}&limit=4", headers=headers)
        body = await response.json()
        seen += [r["serviceData"]["entityId"] for r in body["data"]]
        continuation = body["paging"]["continuationToken"]
        if continuation is None:
            break
    assert seen == ["e0", "e1", "e2", "e3", "e4", "bad"]

    response = await client.get(
        f"{LOGS}?entityId=bad&correlationid=trace-42", headers=bearer(token)
    )
    [record] = (await response.json())["data"]
    assert record["state"] == "Failed" and "Nope" in record["message"]
    assert record["correlationId"] == "trace-42" and record["transactionId"] == transaction
    assert record["requestAction"] == "Upsert" and record["retryCount"] == 0
    assert [h["state"] for h in record["stateHistory"]] == ["Requested", "Processing", "Failed"]
    assert record["enqueuedTimestamp"] <= record["receivedTimestamp"]

    hour_ago = quote((datetime.now(UTC) - timedelta(hours=1)).isoformat())
    hour_on = quote((datetime.now(UTC) + timedelta(hours=1)).isoformat())
    response = await client.get(
        f"{LOGS}?startTime={hour_ago}&endTime={hour_on}", headers=bearer(token)
    )
    assert (await response.json())["paging"]["totalCount"] == 6
    response = await client.get(f"{LOGS}?startTime={hour_on}", headers=bearer(token))
    assert response.status == 404


async def test_refusals_and_what_another_principal_sees(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    bob = await make_token("bob", "apollo_read")
    ns = await two_collections(client, services.pool, alice)
    transaction = await batch(client, alice, ns)
    response = await client.get(f"{LOGS}?v=1.0", headers=bearer(alice))
    assert response.status == 400
    assert "at least one filter" in (await response.json())["status"]["message"]
    assert (await client.get(f"{LOGS}?startTime=yesterday", headers=bearer(alice))).status == 400
    assert (await client.get(f"{LOGS}?transactionId=none", headers=bearer(alice))).status == 404
    assert (await client.get(f"{LOGS}?entityId=e1&limit=0", headers=bearer(alice))).status == 400
    # Logs of a collection bob cannot read are not his to see: not found, not forbidden.
    url = f"{LOGS}?transactionId={transaction}"
    assert (await client.get(url, headers=bearer(bob))).status == 404
    await put_grants(client, alice, "august_14_81", bob="readonly")
    response = await client.get(url, headers=bearer(bob))
    assert response.status == 200 and (await response.json())["paging"]["totalCount"] == 6
    # A readonly principal cannot write, so its refused batch leaves no log at all.
    writer = await make_token("bob", "apollo_write")
    refused = await post_items(client, writer, "entities", "august_14_81", [entity(ns, "z", "AHU")])
    assert refused.status == 403
    assert (await client.get(f"{LOGS}?entityId=z", headers=bearer(alice))).status == 404
