"""Every page of the Apollo docs' status/ and getStatusApollo.md, replayed with ids adapted:
the documented status, record fields and error paths (docs/apollo-compatibility.md)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import DOCS, ENTITIES, RELATIONSHIPS, doc_entity, docs_world
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, upsert_ok

ENVELOPE = {"status", "transactionId", "paging", "data"}
RECORD_FIELDS = {
    "serviceData", "id", "enqueuedTimestamp", "receivedTimestamp", "unixReceievedTimestamp",
    "unixEnqueuedTimestamp", "messageType", "requestAction", "state", "requestObject",
    "transactionId", "payload", "retryCount", "message", "sender", "recipient", "correlationId",
    "timeout", "topic", "stateHistory",
}  # fmt: skip


async def traced(
    client: TestClient, services: Services, make_token: TokenFactory
) -> tuple[str, str, str]:
    """The docs' world, then one entity batch sent with an x-correlation-id."""
    token = await make_token("alice", *ALL_SCOPES)
    await docs_world(client, services.pool, token)
    headers = {
        **bearer(token),
        "ercollectionid": DOCS,
        "async": "false",
        "x-correlation-id": "25695061-206a-48aa-adcf-483358909953",
    }
    items = [doc_entity("E70b1df82", "Floor", "floor"), doc_entity("bad", "Nope", "bad")]
    response = await client.post("/apollo/er/entities", json=items, headers=headers)
    assert response.status == 207
    return token, (await response.json())["transactionId"], "25695061-206a-48aa-adcf-483358909953"


async def records(response: Any, status: int = 200) -> list[dict[str, Any]]:
    body = await response.json()
    assert response.status == status, body
    assert set(body) == ENVELOPE and body["status"]["code"] == str(status)
    for record in body["data"]:
        assert RECORD_FIELDS <= set(record), RECORD_FIELDS - set(record)
    return body["data"]


def status_headers(token: str, collection: str = DOCS) -> dict[str, str]:
    return {**bearer(token), "ercollectionid": collection}


async def test_get_status_by_logs(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, transaction, correlation = await traced(client, services, make_token)
    response = await client.get(
        f"/apollo/status/logs?transactionId={transaction}", headers=status_headers(token)
    )
    found = await records(response)
    assert [r["serviceData"]["entityId"] for r in found] == ["E70b1df82", "bad"]
    record = found[0]
    assert record["messageType"] == "Request" and record["requestAction"] == "Upsert"
    assert record["requestObject"] == "Entity" and record["state"] == "Completed"
    assert record["correlationId"] == correlation
    assert record["payload"]["id"] == "E70b1df82" and found[1]["payload"] is None
    assert record["unixEnqueuedTimestamp"] <= record["unixReceievedTimestamp"]
    assert [h["state"] for h in record["stateHistory"]] == ["Requested", "Processing", "Completed"]
    assert all(isinstance(h["unixTimestamp"], int) for h in record["stateHistory"])
    # The doc writes its URL with a double slash.
    base = str(client.make_url("/")).rstrip("/")
    response = await client.session.get(
        f"{base}//apollo/status/logs?transactionId={transaction}", headers=status_headers(token)
    )
    assert len(await records(response)) == 2
    # Documented errors: no parameter 400, no records 404.
    response = await client.get("/apollo/status/logs", headers=bearer(token))
    assert response.status == 400 and set(await response.json()) == ENVELOPE
    response = await client.get("/apollo/status/logs?transactionId=nope", headers=bearer(token))
    assert response.status == 404
    response = await client.get(
        f"/apollo/status/logs?transactionId={transaction}&$filter=state%20eq%20'Failed'",
        headers=bearer(token),
    )
    assert response.status == 400 and "$filter" in (await response.json())["status"]["message"]


async def test_get_status_by_transaction_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, transaction, _ = await traced(client, services, make_token)
    for path in (
        f"/transactionid/{transaction}/logs",
        f"/apollo/status/transactionid/{transaction}/logs",
    ):
        response = await client.get(f"{path}?limit=100", headers=status_headers(token))
        assert len(await records(response)) == 2
    response = await client.get("/transactionid/nope/logs", headers=status_headers(token))
    assert response.status == 404 and set(await response.json()) == ENVELOPE


async def test_get_status_by_correlation_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, _, correlation = await traced(client, services, make_token)
    for path in (f"/correlationid/{correlation}/logs", f"/correlationId/{correlation}/logs"):
        response = await client.get(f"{path}?limit=100", headers=status_headers(token))
        assert {r["correlationId"] for r in await records(response)} == {correlation}
    response = await client.get("/correlationId/unknown/logs", headers=status_headers(token))
    assert response.status == 404


async def test_get_status_by_entity_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, _, _ = await traced(client, services, make_token)
    response = await client.get("/entity/E70b1df82/logs?limit=100", headers=status_headers(token))
    [record] = await records(response)
    assert record["serviceData"] == {"erCollectionId": DOCS, "entityId": "E70b1df82"}


async def test_get_status_by_relationship_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, _, _ = await traced(client, services, make_token)
    wanted = RELATIONSHIPS[0]["id"]
    base = str(client.make_url("/")).rstrip("/")
    for url in (f"{base}//relationship/{wanted}/logs", f"{base}/relationship/{wanted}/logs"):
        response = await client.session.get(f"{url}?limit=100", headers=status_headers(token))
        [record] = await records(response)
        assert record["requestObject"] == "Relationship"
        assert record["serviceData"]["relationshipId"] == wanted


async def test_get_status_by_er_collection_id(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, _, _ = await traced(client, services, make_token)
    total = len(ENTITIES) + len(RELATIONSHIPS) + 2
    for path, headers in (
        (f"/ercollection/{DOCS}/logs?limit=100", bearer(token)),
        ("/ercollection/logs?limit=100", status_headers(token)),
        (f"/apollo/status/logs?ercollectionId={DOCS.lower()}", bearer(token)),
    ):
        response = await client.get(path, headers=headers)
        assert len(await records(response)) == total, path
    # The header filters every form: another collection's name finds nothing.
    response = await client.get("/ercollection/logs", headers=status_headers(token, "elsewhere"))
    assert response.status == 404
    # Pages follow the continuationToken header; limit and PageSize set their size.
    response = await client.get(
        f"/ercollection/{DOCS}/logs", headers={**bearer(token), "PageSize": "5"}
    )
    body = await response.json()
    assert len(body["data"]) == 5 and body["paging"]["totalCount"] == total
    headers = {**bearer(token), "continuationToken": body["paging"]["continuationToken"]}
    response = await client.get(f"/ercollection/{DOCS}/logs?limit=100", headers=headers)
    assert len((await response.json())["data"]) == total - 5


async def test_get_status_of_a_transaction(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token, transaction, correlation = await traced(client, services, make_token)
    headers = {**bearer(token), "Content-Type": "application/json", "x-correlation-id": "x"}
    response = await client.get(f"/apollo/status/{transaction}", headers=headers)
    body = await response.json()
    assert response.status == 200 and set(body) == ENVELOPE
    data = body["data"]
    assert data["id"] == data["transactionId"] == transaction
    assert data["transactionIDList"] == [transaction]
    assert data["messageType"] == "Request" and data["requestAction"] == "Upsert"
    assert data["requestObject"] == "Entity" and data["state"] == "Completed"
    assert data["correlationId"] == correlation and data["message"] == "1 of 2 items failed"
    assert data["payload"]["states"] == {"Completed": 1, "Failed": 1}
    response = await client.get("/apollo/status/0123456789ABCDEF", headers=headers)
    assert response.status == 404
    # Another principal's transaction is not found either; a token without apollo_read is 403.
    stranger = await make_token("mallory", *ALL_SCOPES)
    assert (
        await client.get(f"/apollo/status/{transaction}", headers=bearer(stranger))
    ).status == 404
    writer = await make_token("alice", "apollo_write")
    assert (await client.get(f"/apollo/status/{transaction}", headers=bearer(writer))).status == 403


async def test_correlationid_header_still_names_the_correlation(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await docs_world(client, services.pool, token)
    body = await upsert_ok(client, token, "entities", DOCS, [ENTITIES[0]])
    response = await client.get(
        f"/apollo/status/logs?transactionid={body['transactionId']}", headers=bearer(token)
    )
    [record] = await records(response)
    assert record["correlationId"]  # the request id when no correlation header is sent
