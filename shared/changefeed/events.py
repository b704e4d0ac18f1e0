"""Change-feed events as the Apollo pages show them: the ``/apollo/changefeed/logs`` record and
the subscription message (the same facts, nested under ``data``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.changefeed.rows import FeedEvent
from shared.text import iso


def _item_fields(row: FeedEvent, collection_id: str) -> dict[str, Any]:
    entity = row.item_kind == "entity"
    return {
        "version": str(row.item_version),
        "notificationId": str(row.notification_id),
        "timestamp": iso(row.recorded_at),
        "notificationType": row.notification_type,
        "entityType": row.item_type if entity else None,
        "entityId": row.item_id if entity else None,
        "relationshipType": None if entity else row.item_type,
        "relationshipId": None if entity else row.item_id,
        "ercollectionid": collection_id,
    }


def _checksum(fields: dict[str, Any]) -> str:
    """An MD5 of the event's facts, as the docs' 32-hex ``checksum`` (integrity, not security)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def log_record(row: FeedEvent, collection_id: str) -> dict[str, Any]:
    """One record of ``GET /apollo/changefeed/logs``."""
    fields = _item_fields(row, collection_id)
    return {
        "unixTimestamp": int(row.recorded_at.timestamp() * 1000),
        **fields,
        "id": fields["notificationId"],
        "transactionId": row.transaction_id,
        "type": row.notification_type,
        "topic": None,
        "correlationid": row.correlation_id,
        "timeout": 0,
        "sender": f"ErCollection:{collection_id}",
        "recipient": None,
        "data": None,
        "checksum": _checksum(fields),
        "sequenceContainer": collection_id,
        "sequenceId": row.sequence_id,
        "sequence": {"container": collection_id, "sequenceid": row.sequence_id, "wrap": False},
    }


def message(row: FeedEvent, collection_id: str) -> dict[str, Any]:
    """One subscription message (the docs' "Change Feed Event Message Format")."""
    fields = _item_fields(row, collection_id)
    return {
        "id": fields["notificationId"],
        "timestamp": fields["timestamp"],
        "timeout": 0,
        "correlationid": row.correlation_id,
        "transactionId": row.transaction_id,
        "sender": f"ErCollection:{collection_id}",
        "recipient": None,
        "checksum": _checksum(fields),
        "sequenceContainer": collection_id,
        "sequenceId": row.sequence_id,
        "data": fields,
        "sequence": {"container": collection_id, "sequenceid": row.sequence_id, "wrap": False},
    }


def sse_frame(row: FeedEvent, collection_id: str) -> bytes:
    """One Server-Sent Event: its id is the sequence id, so Last-Event-ID resumes after it. No
    ``event:`` name, so a browser's EventSource.onmessage sees every event."""
    data = json.dumps(message(row, collection_id), ensure_ascii=False, separators=(",", ":"))
    return f"id: {row.sequence_id}\ndata: {data}\n\n".encode()
