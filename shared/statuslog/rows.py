"""The status log's rows as types (shared/statuslog/store.py), so mypy checks every column the
Apollo status records read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class TransactionItem:
    """One item of a transaction, as its summary counts it."""

    item_kind: str  # entity | relationship
    state: str  # Requested | Processing | Completed | Failed
    message: str
    retry_count: int
    correlation_id: str
    collection_id: str
    enqueued_at: datetime
    received_at: datetime | None
    request_action: str  # Upsert | Delete


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A whole status-log row (``status_logs``), with the payload its transaction wrote (None:
    it wrote nothing, or that version is no longer kept)."""

    seq: int
    id: UUID
    transaction_id: str
    correlation_id: str
    collection_id: str
    item_kind: str
    item_id: str
    position: int
    request_action: str
    state: str
    message: str
    retry_count: int
    enqueued_at: datetime
    received_at: datetime | None
    state_history: list[dict[str, Any]]
    payload: dict[str, Any] | None
