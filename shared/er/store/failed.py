"""The failed items of ER batches (``er_failed_items``: migration 020's trigger keeps them as
their staged batch is removed), and their retries."""

from __future__ import annotations

from shared.db import Executor, fetch_as, fetchrow_as
from shared.er.rows import FailedItem, Failure, FailureGroup

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


async def failed_items(db: Executor, transaction_id: str) -> list[FailedItem]:
    """The transaction's failed items, in the batch's order."""
    return await fetch_as(db, FailedItem, FAILED_ITEMS, transaction_id)


async def mark_retried(db: Executor, transaction_id: str, retried_in: str) -> None:
    """Record the transaction that retried the failed items not retried before."""
    await db.execute(MARK_RETRIED, transaction_id, retried_in)


# The failures workbench: failed items across transactions, of every collection (an operator,
# $1 NULL) or of the named collections (keys, lower case). A reason's group is named by the
# first 16 hex digits of its md5, so that it fits a URL path whatever the reason says.
_SCOPE = "($1::text[] IS NULL OR lower(collection_id) = ANY($1::text[]))"
FAILURE_GROUPS = f"""
SELECT left(md5(reason), 16) AS reason_key, reason, count(*) AS n,
       count(*) FILTER (WHERE retried_in IS NULL) AS not_retried,
       count(DISTINCT transaction_id) AS transactions, max(failed_at) AS last_failed_at
FROM er_failed_items WHERE {_SCOPE}
GROUP BY reason ORDER BY n DESC, reason LIMIT $2
"""
FAILURES = f"""
SELECT left(md5(reason), 16) AS reason_key, transaction_id, collection_id, item_kind, item_id,
       position, reason, item, failed_at, retried_in
FROM er_failed_items
WHERE {_SCOPE} AND ($2::text IS NULL OR left(md5(reason), 16) = $2)
  AND (NOT $3 OR retried_in IS NULL)
ORDER BY failed_at DESC, transaction_id, position LIMIT $4
"""
ONE_FAILURE = f"""
SELECT left(md5(reason), 16) AS reason_key, transaction_id, collection_id, item_kind, item_id,
       position, reason, item, failed_at, retried_in
FROM er_failed_items WHERE {_SCOPE} AND transaction_id = $2 AND position = $3
"""
MARK_ITEMS_RETRIED = """
UPDATE er_failed_items AS f SET retried_in = m.retried_in
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     AS m(transaction_id, item_kind, item_id, retried_in)
WHERE f.transaction_id = m.transaction_id AND f.item_kind = m.item_kind
  AND f.item_id = m.item_id AND f.retried_in IS NULL
"""


async def failure_groups(
    db: Executor, collection_keys: list[str] | None, limit: int
) -> list[FailureGroup]:
    return await fetch_as(db, FailureGroup, FAILURE_GROUPS, collection_keys, limit)


async def failures(
    db: Executor,
    collection_keys: list[str] | None,
    reason_key: str | None,
    not_retried_only: bool,
    limit: int,
) -> list[Failure]:
    return await fetch_as(
        db, Failure, FAILURES, collection_keys, reason_key, not_retried_only, limit
    )


async def one_failure(
    db: Executor, collection_keys: list[str] | None, transaction_id: str, position: int
) -> Failure | None:
    return await fetchrow_as(db, Failure, ONE_FAILURE, collection_keys, transaction_id, position)


async def mark_items_retried(db: Executor, rows: list[tuple[str, str, str, str]]) -> None:
    """Mark each (transaction, kind, item id) as retried in its new transaction."""
    await db.execute(MARK_ITEMS_RETRIED, *(list(column) for column in zip(*rows, strict=True)))


SELECTED_FAILURES = f"""
SELECT left(md5(f.reason), 16) AS reason_key, f.transaction_id, f.collection_id, f.item_kind,
       f.item_id, f.position, f.reason, f.item, f.failed_at, f.retried_in
FROM er_failed_items AS f
JOIN unnest($2::text[], $3::text[]) AS s(transaction_id, item_id)
  ON f.transaction_id = s.transaction_id AND f.item_id = s.item_id
WHERE {_SCOPE}
"""


async def selected_failures(
    db: Executor, collection_keys: list[str] | None, keys: list[tuple[str, str]]
) -> list[Failure]:
    """The failed items named by (transaction, item id), those the scope may see."""
    transactions, item_ids = [k[0] for k in keys], [k[1] for k in keys]
    return await fetch_as(db, Failure, SELECTED_FAILURES, collection_keys, transactions, item_ids)
