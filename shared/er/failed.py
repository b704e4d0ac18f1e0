"""The failed items of a transaction, kept with their reasons (migration 020), and their retry:
the same items sent again as a new async batch, once the cause is fixed."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.auth import Principal
from shared.er.access import ErCollections, Role
from shared.er.batch_kinds import KINDS
from shared.er.batches import Submission, accept_async
from shared.er.store import failed as failed_store
from shared.errors import NotFound
from shared.services import Services
from shared.statuslog.query import batch_tracker


async def failed_items(
    pool: asyncpg.Pool, principal_id: int, transaction_id: str
) -> list[dict[str, Any]]:
    """The transaction's failed items, if the caller may read its collection (else 404)."""
    rows = await failed_store.failed_items(pool, transaction_id)
    if not rows:
        return []
    collections = ErCollections(pool)
    await collections.require(principal_id, rows[0].collection_id, Role.readonly)
    return [
        {
            "id": row.item_id,
            "kind": row.item_kind,
            "erCollectionId": row.collection_id,
            "reason": row.reason,
            "item": row.item,
            "failedAt": row.failed_at.isoformat(),
            "retriedIn": row.retried_in,
        }
        for row in rows
    ]


async def retry(
    services: Services,
    principal: Principal,
    transaction_id: str,
    new_transaction: str,
    correlation_id: str,
) -> dict[str, Any]:
    """Send the failed items again as a new async batch: ``{token, transactionId, tracker,
    count}``. 404 when the transaction kept no failed item."""
    items = await failed_items(services.pool, principal.id, transaction_id)
    if not items:
        raise NotFound(f"Transaction {transaction_id} has no failed items to retry")
    batch = Submission(
        principal, KINDS[items[0]["kind"]], items[0]["erCollectionId"],
        [i["item"] for i in items], new_transaction, correlation_id,
    )  # fmt: skip
    job = await accept_async(services, batch)
    await failed_store.mark_retried(services.pool, transaction_id, new_transaction)
    return {
        "token": job.token,
        "transactionId": new_transaction,
        "tracker": batch_tracker(services.settings.public_url, new_transaction),
        "count": len(items),
        "retriedFrom": transaction_id,
    }
