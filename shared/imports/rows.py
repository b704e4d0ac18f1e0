"""The import summaries' rows as types (shared/imports/store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RecordedImport:
    id: int
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class ImportSummaryRow:
    """A kept import summary; its two documents as their JSON text (the dashboard's reader
    decodes them)."""

    id: int
    principal_id: int
    collection_id: str
    source: str
    kind: str  # entities | relationships | brick
    summary: str
    refusals: str
    transactions: list[str]
    finished_at: datetime
