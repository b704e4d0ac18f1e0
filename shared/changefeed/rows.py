"""The change feed's rows as types (shared/changefeed/store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event of a collection's feed, unpacked from its block (``PAGE``)."""

    sequence_id: int
    notification_id: UUID
    notification_type: str
    item_kind: str  # entity | relationship
    item_id: str
    item_type: str
    item_version: int
    transaction_id: str
    recorded_at: datetime
    correlation_id: str | None  # the writing transaction's, if its status log still has it
