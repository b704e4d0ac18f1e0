"""Status-log records as the Apollo docs show them, and the summary of one transaction
(``GET /apollo/status/{transactionId}``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import asyncpg

from shared.errors import NotFound
from shared.statuslog import store
from shared.statuslog.rows import StatusRecord
from shared.text import iso

REQUEST_OBJECTS = {"entity": "Entity", "relationship": "Relationship"}


def unix_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _history_entry(entry: dict[str, Any]) -> dict[str, Any]:
    try:
        unix = unix_ms(datetime.fromisoformat(entry["timestamp"]))
    except (KeyError, TypeError, ValueError):
        unix = None
    return {**entry, "unixTimestamp": unix}


def payload_json(row: StatusRecord) -> tuple[dict[str, Any] | None, str]:
    """The record's payload and its ``payloadState`` (docs/apollo-er.md): ``written`` (the
    payload is what the transaction wrote; a delete's, the item as deleted, ``isActive`` false),
    ``none`` (it wrote nothing: the item failed, or is not done yet), ``notKept`` (it wrote a
    version that is no longer kept: written before versions were kept)."""
    payload = row.payload
    if payload is not None:
        if row.request_action == "Delete":
            payload = {**payload, "isActive": False}
        return payload, "written"
    return None, "notKept" if row.state == "Completed" else "none"


def record_json(row: StatusRecord) -> dict[str, Any]:
    item_key = "entityId" if row.item_kind == "entity" else "relationshipId"
    received = row.received_at
    payload, payload_state = payload_json(row)
    return {
        "id": str(row.id),
        "transactionId": row.transaction_id,
        "correlationId": row.correlation_id,
        "serviceData": {"erCollectionId": row.collection_id, item_key: row.item_id},
        "messageType": "Request",
        "requestAction": row.request_action,
        "requestObject": REQUEST_OBJECTS[row.item_kind],
        "state": row.state,
        "message": row.message,
        "retryCount": row.retry_count,
        "enqueuedTimestamp": iso(row.enqueued_at),
        "receivedTimestamp": iso(received) if received else None,
        "unixEnqueuedTimestamp": unix_ms(row.enqueued_at),
        # The docs spell it so; the correct spelling is served too.
        "unixReceievedTimestamp": unix_ms(received),
        "unixReceivedTimestamp": unix_ms(received),
        "payload": payload,
        "payloadState": payload_state,  # Brickyard's: what a null payload means
        "sender": None,
        "recipient": None,
        "timeout": 0,
        "topic": None,
        "stateHistory": [_history_entry(entry) for entry in row.state_history],
    }


def overall_state(states: Counter[str]) -> str:
    """A transaction is Requested or Processing until every item is final; then Completed, or
    Failed when no item succeeded."""
    unfinished = states["Requested"] + states["Processing"]
    if unfinished:
        return (
            "Processing"
            if states["Processing"] or unfinished < sum(states.values())
            else ("Requested")
        )
    return "Completed" if states["Completed"] else "Failed"


async def transaction_summary(
    pool: asyncpg.Pool, principal_id: int, transaction_id: str
) -> dict[str, Any]:
    """One record for a whole transaction, in the shape of the docs' Get Status page."""
    rows = await store.transaction_records(pool, principal_id, transaction_id)
    if not rows:
        raise NotFound(f"No transaction '{transaction_id}' with status logs the caller may see")
    states = Counter(row.state for row in rows)
    received = [row.received_at for row in rows if row.received_at]
    failed = [row.message for row in rows if row.state == "Failed"]
    kind = rows[0].item_kind
    return {
        "id": transaction_id,
        "transactionId": transaction_id,
        "enqueuedTimestamp": iso(min(row.enqueued_at for row in rows)),
        "receivedTimestamp": iso(min(received)) if received else None,
        "messageType": "Request",
        "requestAction": rows[0].request_action,  # Upsert, or Delete (shared/er/delete.py)
        "state": overall_state(states),
        "requestObject": REQUEST_OBJECTS[kind],
        "transactionIDList": [transaction_id],
        "payload": {
            "erCollectionId": rows[0].collection_id,
            "itemCount": len(rows),
            "states": dict(sorted(states.items())),
        },
        "retryCount": max(row.retry_count for row in rows),
        "message": f"{len(failed)} of {len(rows)} items failed" if failed else None,
        "sender": None,
        "recipient": None,
        "correlationId": rows[0].correlation_id,
        "timeout": 0,
        "topic": None,
    }
