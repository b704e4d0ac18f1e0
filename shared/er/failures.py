"""The failures workbench: every failed ER item across transactions, grouped by reason, and
their retry (one item, or every item of a reason not retried yet) as new async batches.

An operator sees every principal's failures; anyone else those of the ER collections they hold
a role on, the same rule as reading one transaction's failed items."""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections import defaultdict
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.er.access import ErCollections
from shared.er.batch_kinds import KINDS
from shared.er.batches import Submission, accept_async
from shared.er.rows import Failure
from shared.er.store import failed as failed_store
from shared.errors import BadRequest, NotFound
from shared.services import Services
from shared.statuslog.query import batch_tracker

OPERATOR = "operator"
SHOWN_GROUPS = 200
MAX_ITEMS = 10_000  # a download's or a group retry's bound: a batch's own maximum
CSV_COLUMNS = ["transactionId", "erCollectionId", "kind", "id", "position", "reason",
               "failedAt", "retriedIn", "item"]  # fmt: skip


async def scope_of(pool: asyncpg.Pool, principal: Principal) -> list[str] | None:
    """The collection keys whose failures the principal sees; None: all (an operator)."""
    if OPERATOR in principal.scopes:
        return None
    return [c.id.lower() for c in await ErCollections(pool).list_for(principal.id)]


def shown(row: Failure) -> dict[str, Any]:
    return {
        "transactionId": row.transaction_id,
        "erCollectionId": row.collection_id,
        "kind": row.item_kind,
        "id": row.item_id,
        "position": row.position,
        "reason": row.reason,
        "reasonKey": row.reason_key,
        "failedAt": row.failed_at.isoformat(),
        "retriedIn": row.retried_in,
        "item": row.item,
    }


async def groups(pool: asyncpg.Pool, principal: Principal) -> list[dict[str, Any]]:
    rows = await failed_store.failure_groups(pool, await scope_of(pool, principal), SHOWN_GROUPS)
    return [
        {
            "reasonKey": row.reason_key,
            "reason": row.reason,
            "count": row.n,
            "notRetried": row.not_retried,
            "transactions": row.transactions,
            "lastFailedAt": row.last_failed_at.isoformat(),
        }
        for row in rows
    ]


async def items(
    pool: asyncpg.Pool, principal: Principal, reason_key: str | None, limit: int = MAX_ITEMS
) -> list[dict[str, Any]]:
    scope = await scope_of(pool, principal)
    return [shown(r) for r in await failed_store.failures(pool, scope, reason_key, False, limit)]


def as_ndjson(found: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in found)


def as_csv(found: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for item in found:
        writer.writerow({**item, "item": json.dumps(item["item"], ensure_ascii=False)})
    return out.getvalue()


async def retry_one(
    services: Services, principal: Principal, transaction_id: str, position: int, correlation: str
) -> dict[str, Any]:
    scope = await scope_of(services.pool, principal)
    row = await failed_store.one_failure(services.pool, scope, transaction_id, position)
    if row is None:
        raise NotFound(f"Transaction {transaction_id} kept no failed item at position {position}")
    return await _resubmit(services, principal, [row], correlation)


async def retry_selected(
    services: Services, principal: Principal, keys: list[tuple[str, str]], correlation: str
) -> dict[str, Any]:
    """The items named by (transaction, item id), as a failures file lists them (the
    dashboard's download and ``brickyard import --failures`` both do)."""
    if not keys or len(keys) > MAX_ITEMS:
        raise BadRequest(f"Name between 1 and {MAX_ITEMS} failed items")
    scope = await scope_of(services.pool, principal)
    rows = await failed_store.selected_failures(services.pool, scope, keys)
    if not rows:
        raise NotFound("None of the named failed items is kept (or visible to you)")
    return await _resubmit(services, principal, rows, correlation)


async def retry_group(
    services: Services, principal: Principal, reason_key: str, correlation: str
) -> dict[str, Any]:
    """Every item of the reason not retried yet; one new batch per collection and kind."""
    scope = await scope_of(services.pool, principal)
    rows = await failed_store.failures(services.pool, scope, reason_key, True, MAX_ITEMS + 1)
    if not rows:
        raise NotFound("No failed item of that reason is waiting for a retry")
    if len(rows) > MAX_ITEMS:
        raise BadRequest(f"More than {MAX_ITEMS} items: retry them per transaction")
    return await _resubmit(services, principal, rows, correlation)


async def _resubmit(
    services: Services, principal: Principal, rows: list[Failure], correlation: str
) -> dict[str, Any]:
    by_target: dict[tuple[str, str], dict[str, Failure]] = defaultdict(dict)
    for row in rows:  # an item failed twice (two transactions) is sent once, its latest form
        by_target[(row.collection_id, row.item_kind)].setdefault(row.item_id, row)
    batches, marks = [], []
    for (collection, kind), chosen in by_target.items():
        new_transaction = secrets.token_hex(16).upper()
        batch = Submission(
            principal, KINDS[kind], collection, [r.item for r in chosen.values()],
            new_transaction, correlation,
        )  # fmt: skip
        job = await accept_async(services, batch)
        tracker = batch_tracker(services.settings.public_url, new_transaction)
        batches.append({"token": job.token, "transactionId": new_transaction,
                        "tracker": tracker, "count": len(chosen)})  # fmt: skip
        marks += [(r.transaction_id, kind, r.item_id, new_transaction) for r in rows
                  if (r.collection_id, r.item_kind) == (collection, kind)]  # fmt: skip
    await failed_store.mark_items_retried(services.pool, marks)
    return {
        "batches": batches,
        "count": sum(b["count"] for b in batches),
        "tracker": batches[0]["tracker"],
        "token": batches[0]["token"],
        "transactionId": batches[0]["transactionId"],
    }
