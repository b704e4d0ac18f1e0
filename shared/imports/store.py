"""SQL for ``import_summaries`` (migration 035)."""

from __future__ import annotations

from typing import Any

from shared.db import Executor, fetch_as, fetchrow_as
from shared.imports.rows import ImportSummaryRow, RecordedImport
from shared.text import json_text

INSERT_SUMMARY = """
INSERT INTO import_summaries (principal_id, collection_id, source, kind, summary, refusals,
                              transactions)
VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7)
RETURNING id, finished_at
"""
# An operator ($1 NULL) sees every principal's imports.
RECENT_SUMMARIES = """
SELECT id, principal_id, collection_id, source, kind, summary::text AS summary,
       refusals::text AS refusals, transactions, finished_at
FROM import_summaries WHERE $1::int IS NULL OR principal_id = $1
ORDER BY finished_at DESC, id DESC LIMIT $2
"""


async def insert(
    db: Executor, principal_id: int, collection_id: str, source: str, kind: str,
    summary: dict[str, Any], refusals: dict[str, int], transactions: list[str],
) -> RecordedImport:  # fmt: skip
    row = await fetchrow_as(
        db, RecordedImport, INSERT_SUMMARY, principal_id, collection_id, source, kind,
        json_text(summary), json_text(refusals), transactions,
    )  # fmt: skip
    assert row is not None  # an INSERT ... RETURNING without a conflict clause returns its row
    return row


async def recent(db: Executor, principal_id: int | None, limit: int) -> list[ImportSummaryRow]:
    return await fetch_as(db, ImportSummaryRow, RECENT_SUMMARIES, principal_id, limit)
