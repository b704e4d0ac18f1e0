"""Finding status logs (``GET /apollo/status/logs`` and its path forms) and the tracker URLs
that point at them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import asyncpg

from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest, page_size
from shared.statuslog import store
from shared.statuslog.records import record_json
from shared.text import storable

LOGS_PATH = "/apollo/status/logs"

TIME_FILTERS = {"starttime", "endtime"}
FILTER_NAMES = (
    "transactionId, entityId, relationshipId, correlationId, ercollectionId, startTime or endTime"
)


# What quote() leaves as it is: an id made of these alone (almost every one) skips it, which
# would cost a 10000-item batch's answer about 10 ms.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def item_tracker(public_url: str, item_kind: str, item_id: str, transaction_id: str) -> str:
    quoted = item_id if _UNRESERVED.fullmatch(item_id) else quote(item_id, safe="")
    return f"{public_url}{LOGS_PATH}?{item_kind}id={quoted}&transactionid={transaction_id}"


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
        for name in store.FILTERS:
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
        return store.where(self.filters)


async def search_logs(
    pool: asyncpg.Pool, principal_id: int, query: LogQuery, page: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of matching records and its paging block; 404 when nothing matches at all."""
    await store.write_requested(pool)  # once, before both reads (migration 024)
    total = await store.count_logs(pool, principal_id, query.filters)
    if not total:
        raise NotFound("No status log matches these filters")
    after = page.after_as(int, 0)
    rows = await store.page_logs(pool, principal_id, query.filters, after, page.fetch)
    shown, paging = page.page(total, rows, lambda row: row.seq)
    return [record_json(row) for row in shown], paging
