"""Reading status logs (``GET /apollo/status/logs``) and the tracker URLs that point at them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import asyncpg

from shared.er.paging import decode_token, encode_token, page_size
from shared.er.text import storable
from shared.errors import BadRequest, NotFound
from shared.jobs.model import iso

LOGS_PATH = "/apollo/status/logs"

# Filter name (lower case: query names are case-insensitive) -> SQL condition on parameter {}.
CONDITIONS = {
    "transactionid": "transaction_id = ${}",
    "entityid": "item_kind = 'entity' AND item_id = ${}",
    "relationshipid": "item_kind = 'relationship' AND item_id = ${}",
    "correlationid": "correlation_id = ${}",
    "starttime": "enqueued_at >= ${}",
    "endtime": "enqueued_at <= ${}",
}
TIME_FILTERS = {"starttime", "endtime"}
# A principal sees the logs of the collections it holds any role on.
VISIBLE = (
    "collection_id IN (SELECT collection_id FROM er_collection_grants WHERE principal_id = $1)"
)
COUNT = "SELECT count(*) FROM status_logs WHERE {where}"
PAGE = "SELECT * FROM status_logs WHERE {where} AND seq > ${after} ORDER BY seq LIMIT ${limit}"


def item_tracker(public_url: str, item_kind: str, item_id: str, transaction_id: str) -> str:
    return (
        f"{public_url}{LOGS_PATH}?{item_kind}id={quote(item_id, safe='')}"
        f"&transactionid={transaction_id}"
    )


def batch_tracker(public_url: str, transaction_id: str) -> str:
    return f"{public_url}{LOGS_PATH}?transactionid={transaction_id}"


def _moment(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # In UTC it must still be a date Python and Postgres can hold (years 1 to 9999).
        moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"Query parameter '{name}' must be an ISO-8601 date-time") from exc
    return moment


@dataclass(frozen=True, slots=True)
class LogQuery:
    filters: dict[str, Any] = field(default_factory=dict)
    limit: int = 100
    after: int = 0

    @classmethod
    def parse(cls, query: Mapping[str, str], continuation: str | None) -> LogQuery:
        params = {name.lower(): value for name, value in query.items()}
        filters: dict[str, Any] = {}
        for name in CONDITIONS:
            value = params.get(name)
            if value:
                filters[name] = (
                    _moment(name, value) if name in TIME_FILTERS else storable(value, name)
                )
        if not filters:
            raise BadRequest(
                "Give at least one filter: transactionId, entityId, relationshipId, "
                "correlationId, startTime or endTime"
            )
        after = decode_token(continuation) or 0
        if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**63:
            raise BadRequest("The continuationToken header is not a token this service issued")
        return cls(filters, page_size(params.get("limit"), "limit"), after)

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (parameter $1 is the principal) and its arguments after $1."""
        clauses, args = [VISIBLE], []
        for name, value in self.filters.items():
            args.append(value)
            clauses.append(CONDITIONS[name].format(len(args) + 1))
        return " AND ".join(clauses), args


def record_json(row: asyncpg.Record) -> dict[str, Any]:
    item_key = "entityId" if row["item_kind"] == "entity" else "relationshipId"
    return {
        "id": str(row["id"]),
        "transactionId": row["transaction_id"],
        "correlationId": row["correlation_id"],
        "serviceData": {"erCollectionId": row["collection_id"], item_key: row["item_id"]},
        "requestAction": row["request_action"],
        "state": row["state"],
        "message": row["message"],
        "retryCount": row["retry_count"],
        "enqueuedTimestamp": iso(row["enqueued_at"]),
        "receivedTimestamp": iso(row["received_at"]) if row["received_at"] else None,
        "stateHistory": row["state_history"],
    }


async def search_logs(
    pool: asyncpg.Pool, principal_id: int, query: LogQuery
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of matching records and its paging block; 404 when nothing matches at all."""
    where, args = query.where()
    total = await pool.fetchval(COUNT.format(where=where), principal_id, *args)
    if not total:
        raise NotFound("No status log matches these filters")
    sql = PAGE.format(where=where, after=len(args) + 2, limit=len(args) + 3)
    rows = await pool.fetch(sql, principal_id, *args, query.after, query.limit + 1)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    token = encode_token(rows[-1]["seq"]) if more else None
    return [record_json(row) for row in rows], {"totalCount": total, "continuationToken": token}
