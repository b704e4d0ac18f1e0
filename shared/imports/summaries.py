"""An import's summary as the importer reports it, checked and kept; recent ones for the
dashboard (the caller's own; an operator's: everyone's)."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.auth import Principal
from shared.errors import BadRequest
from shared.imports import store
from shared.text import holds_unstorable_text, json_value

OPERATOR = "operator"
KINDS = {"entities", "relationships", "brick"}
MAX_REASONS, MAX_TRANSACTIONS, MAX_TEXT = 500, 10_000, 1000
SHOWN = 50


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise BadRequest(f"{name} is a text of 1 to {MAX_TEXT} characters")
    return value


def parse(body: Any) -> tuple[str, str, str, dict[str, Any], dict[str, int], list[str]]:
    if not isinstance(body, dict):
        raise BadRequest("The body is an import's summary: a JSON object")
    if holds_unstorable_text(body):
        raise BadRequest(
            "The summary holds a character that cannot be stored (NUL or a lone surrogate)"
        )
    kind = _text(body, "kind")
    if kind not in KINDS:
        raise BadRequest(f"kind is one of {', '.join(sorted(KINDS))}")
    summary, refusals, transactions = (
        body.get("summary"), body.get("refusalsByReason", {}), body.get("transactions", [])
    )  # fmt: skip
    if not isinstance(summary, dict) or len(str(summary)) > 100_000:
        raise BadRequest("summary is the import's summary object")
    if (
        not isinstance(refusals, dict) or len(refusals) > MAX_REASONS
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in refusals.values())
    ):  # fmt: skip
        raise BadRequest(f"refusalsByReason maps at most {MAX_REASONS} reasons to counts")
    if (
        not isinstance(transactions, list)
        or len(transactions) > MAX_TRANSACTIONS
        or not all(isinstance(t, str) and len(t) <= 200 for t in transactions)
    ):
        raise BadRequest("transactions is a list of transaction ids")
    reasons = {str(reason)[:MAX_TEXT]: n for reason, n in refusals.items()}
    return (
        _text(body, "erCollectionId"),
        _text(body, "source"),
        kind,
        summary,
        reasons,
        transactions,
    )


async def record(pool: asyncpg.Pool, principal: Principal, body: Any) -> dict[str, Any]:
    collection, source, kind, summary, refusals, transactions = parse(body)
    row = await store.insert(
        pool, principal.id, collection, source, kind, summary, refusals, transactions
    )
    return {"id": row.id, "finishedAt": row.finished_at.isoformat()}


def _counts(kind: str, summary: dict[str, Any]) -> dict[str, int]:
    """Stored and refused, whatever the import's shape (a Brick model counts both kinds)."""
    if kind == "brick":
        parts = [summary.get("entities", {}), summary.get("relationships", {})]
        return {
            "stored": sum(int(p.get("stored", 0)) for p in parts),
            "refused": sum(int(p.get("refused", 0)) for p in parts),
        }
    return {"stored": int(summary.get("stored", 0)), "refused": int(summary.get("failed", 0))}


async def recent(pool: asyncpg.Pool, principal: Principal) -> list[dict[str, Any]]:
    scope = None if OPERATOR in principal.scopes else principal.id
    shown = []
    for row in await store.recent(pool, scope, SHOWN):
        summary, refusals = json_value(row.summary), json_value(row.refusals)
        shown.append({
            "id": row.id, "principalId": row.principal_id,
            "erCollectionId": row.collection_id, "source": row.source,
            "kind": row.kind, "finishedAt": row.finished_at.isoformat(),
            **_counts(row.kind, summary),
            "refusals": sorted(refusals.items(), key=lambda r: (-r[1], r[0])),
            "transactions": row.transactions, "summary": summary,
        })  # fmt: skip
    return shown
