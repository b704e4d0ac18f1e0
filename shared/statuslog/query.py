"""Finding status logs (``GET /apollo/status/logs`` and its path forms) and the tracker URLs
that point at them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import asyncpg

from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest, page_size
from shared.statuslog.records import RECORD_COLUMNS, record_json
from shared.text import storable

LOGS_PATH = "/apollo/status/logs"

# Filter name (lower case: query names are case-insensitive) -> SQL condition on parameter {}.
CONDITIONS = {
    "transactionid": "l.transaction_id = ${}",
    "entityid": "l.item_kind = 'entity' AND l.item_id = ${}",
    "relationshipid": "l.item_kind = 'relationship' AND l.item_id = ${}",
    "correlationid": "l.correlation_id = ${}",
    # Collection ids are unique case-insensitively, and clients may spell them either way.
    "ercollectionid": "l.collection_id = (SELECT id FROM er_collections WHERE id_key = lower(${}))",
    "starttime": "l.enqueued_at >= ${}",
    "endtime": "l.enqueued_at <= ${}",
}
TIME_FILTERS = {"starttime", "endtime"}
FILTER_NAMES = (
    "transactionId, entityId, relationshipId, correlationId, ercollectionId, startTime or endTime"
)
# A principal sees the logs of the collections it holds any role on.
VISIBLE = (
    "l.collection_id IN (SELECT collection_id FROM er_collection_grants WHERE principal_id = $1)"
)
COUNT = "SELECT count(*) FROM status_logs l WHERE {where}"
PAGE = (
    f"SELECT {RECORD_COLUMNS} FROM status_logs l WHERE {{where}} AND l.seq > ${{after}} "
    "ORDER BY l.seq LIMIT ${limit}"
)


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

    @classmethod
    def parse(
        cls,
        query: Mapping[str, str],
        *,
        path_filters: Mapping[str, str] | None = None,
        collection_header: str | None = None,
        page_size_header: str | None = None,
    ) -> LogQuery:
        """Filters from the query (any casing), the path form (``/transactionid/{id}/logs``)
        and the ``ercollectionid`` header; all of them combine with AND."""
        options = sorted(name for name in query if name.startswith("$"))
        if options:  # OData options filter nothing here: refused rather than ignored
            raise BadRequest(f"Unsupported query option {', '.join(options)} on status logs")
        params = {name.lower(): value for name, value in query.items()}
        params |= {name: value for name, value in (path_filters or {}).items()}
        if collection_header and "ercollectionid" not in params:
            params["ercollectionid"] = collection_header
        filters: dict[str, Any] = {}
        for name in CONDITIONS:
            value = params.get(name)
            if value:
                filters[name] = (
                    _moment(name, value) if name in TIME_FILTERS else storable(value, name)
                )
        if not filters:
            raise BadRequest(f"Give at least one filter: {FILTER_NAMES}")
        if "limit" in params:
            limit = page_size(params["limit"], "limit")
        else:
            limit = page_size(page_size_header, "PageSize", where="Header")
        return cls(filters, limit)

    @property
    def binding(self) -> tuple[object, ...]:
        """What a continuation token of this query is bound to."""
        return ("status-logs", *sorted((k, str(v)) for k, v in self.filters.items()))

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (parameter $1 is the principal) and its arguments after $1."""
        clauses, args = [VISIBLE], []
        for name, value in self.filters.items():
            args.append(value)
            clauses.append(CONDITIONS[name].format(len(args) + 1))
        return " AND ".join(clauses), args


async def search_logs(
    pool: asyncpg.Pool, principal_id: int, query: LogQuery, page: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of matching records and its paging block; 404 when nothing matches at all."""
    where, args = query.where()
    total = await pool.fetchval(COUNT.format(where=where), principal_id, *args)
    if not total:
        raise NotFound("No status log matches these filters")
    after = page.after_as(int, 0)
    sql = PAGE.format(where=where, after=len(args) + 2, limit=len(args) + 3)
    rows = await pool.fetch(sql, principal_id, *args, after, page.fetch)
    shown, paging = page.page(total, rows, lambda row: row["seq"])
    return [record_json(row) for row in shown], paging
