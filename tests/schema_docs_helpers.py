"""Helpers for the tests that replay the Apollo schema pages (../shared/apollo-docs/schema/).

Ids are adapted: the pages' BRICK_0_4 collection is filled from a small hand-made release
(tests.schema_helpers.release) so its types are BRICK_0_4__Building, BRICK_0_4__AHU, ...
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.schema_helpers import API, create_collection, publish, release, sync

DOC_KEYS = ("status", "transactionId", "paging", "data")
COLLECTION_SYS_KEYS = {
    "sysTimestamp",
    "sysCorrelationId",
    "sysRequestorId",
    "sysClientId",
    "sysActive",
}
TYPE_SYS_KEYS = {
    "sysCorrelationId",
    "sysClientId",
    "sysSchemaCollectionId",
    "sysTimestamp",
    "sysSchemaVersion",
    "sysState",
    "sysActive",
    "sysRequestorId",
    "sysIsMaster",
}
NS = "BRICK_0_4__"

# createSchema's own example, as the page sends it.
TIMESERIES: dict[str, Any] = {
    "type": "object",
    "title": "Brick:Timeseries",
    "sysEntityType": "Brick:Timeseries",
    "required": ["id", "timeseriesId"],
    "$schema": "http://json-schema.org/draft-06/schema#",
    "description": "Schema for Entity Brick:Timeseries",
    "schemaMetadata": {
        "entityTypeTags": ["Timeseries"],
        "entityType": "Brick:Timeseries",
        "schemaCollectionId": "Brick:Draft",
        "entityIsSubClassOf": [],
    },
    "properties": {
        "id": {"type": "string", "description": "Same as timeseriesId"},
        "entityType": {"type": "string", "description": "Name of the Timeseries"},
        "timeseriesId": {"type": "string", "description": "Id of Timeseries in TS API"},
        "customData": {
            "type": "object",
            "description": "Dictionary to hold any data that you want",
        },
    },
}


async def answer(response: ClientResponse, status: int) -> dict[str, Any]:
    """The Apollo envelope, checked: HTTP status, the same code in the body, a transaction id."""
    body = await response.json()
    assert response.status == status, body
    assert tuple(sorted(body)) == tuple(sorted(DOC_KEYS)), body
    assert body["status"]["code"] == str(status)
    transaction = body["transactionId"]
    assert len(transaction) == 32 and transaction == transaction.upper()
    return body


async def brick_0_4(client: TestClient, headers: dict[str, str]) -> None:
    """BRICK_0_4, synced (both types) from the small release acme 1.0 (needs a worker)."""
    await publish(client, headers, release("1.0"))
    await create_collection(client, headers, "BRICK_0_4", releaseLine="acme")
    await sync(client, headers, "BRICK_0_4", "entitytypes")
    await sync(client, headers, "BRICK_0_4", "relationshiptypes")


async def post_schema(
    client: TestClient,
    headers: dict[str, str],
    schema_type: str,
    body: Any,
    collection: str = "Brick:Draft",
) -> ClientResponse:
    """createSchema as the page sends it: Content-Type application/schema+json."""
    return await client.post(
        f"{API}/{schema_type}",
        data=json.dumps(body),
        headers={
            **headers,
            "schemaCollectionId": collection,
            "Content-Type": "application/schema+json",
        },
    )
