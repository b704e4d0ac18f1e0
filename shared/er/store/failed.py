"""The failed items of ER batches (``er_failed_items``: migration 020's trigger keeps them as
their staged batch is removed), and their retries."""

from __future__ import annotations

import asyncpg

from shared.db import Executor

FAILED_ITEMS = """
SELECT transaction_id, collection_id, item_kind, item_id, position, reason, item, failed_at,
       retried_in
FROM er_failed_items WHERE transaction_id = $1 ORDER BY position
"""
# The first retry's mark stays: retrying the same items again does not overwrite it.
MARK_RETRIED = """
UPDATE er_failed_items SET retried_in = $2
WHERE transaction_id = $1 AND retried_in IS NULL
"""


async def failed_items(db: Executor, transaction_id: str) -> list[asyncpg.Record]:
    """The transaction's failed items, in the batch's order."""
    rows: list[asyncpg.Record] = await db.fetch(FAILED_ITEMS, transaction_id)
    return rows


async def mark_retried(db: Executor, transaction_id: str, retried_in: str) -> None:
    """Record the transaction that retried the failed items not retried before."""
    await db.execute(MARK_RETRIED, transaction_id, retried_in)
