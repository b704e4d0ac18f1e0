"""Status-log query parsing: filters in any casing, path and header forms, sizes, times, and the
SQL it builds (no database: the WHERE clause is checked as text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.errors import BadRequest
from shared.statuslog.query import LogQuery, batch_tracker, item_tracker


def refused(**kwargs: object) -> str:
    with pytest.raises(BadRequest) as caught:
        LogQuery.parse(**kwargs)  # type: ignore[arg-type]
    return caught.value.message


def test_filters_in_any_casing_combine() -> None:
    query = LogQuery.parse({"TransactionID": "T1", "entityId": "e/1", "other": "ignored"})
    assert query.filters == {"transactionid": "T1", "entityid": "e/1"}
    assert query.limit == 100
    where, args = query.where()
    assert where == (
        "l.collection_id IN (SELECT collection_id FROM er_collection_grants WHERE principal_id = $1)"
        " AND l.transaction_id = $2 AND l.item_kind = 'entity' AND l.item_id = $3"
    )
    assert args == ["T1", "e/1"]


def test_path_filters_and_the_collection_header() -> None:
    query = LogQuery.parse({}, path_filters={"relationshipid": "r1"}, collection_header="Coll")
    assert query.filters == {"relationshipid": "r1", "ercollectionid": "Coll"}
    query = LogQuery.parse({"ercollectionid": "FromQuery"}, collection_header="Header")
    assert query.filters == {"ercollectionid": "FromQuery"}
    # The path form wins over the query's spelling of the same filter.
    query = LogQuery.parse({"transactionId": "q"}, path_filters={"transactionid": "p"})
    assert query.filters == {"transactionid": "p"}


def test_empty_values_are_no_filter() -> None:
    assert refused(query={"transactionId": "", "entityid": ""}) == (
        "Give at least one filter: transactionId, entityId, relationshipId, correlationId, "
        "ercollectionId, startTime or endTime"
    )


def test_odata_options_are_refused_not_ignored() -> None:
    assert refused(query={"transactionId": "t", "$top": "1", "$filter": "x"}) == (
        "Unsupported query option $filter, $top on status logs"
    )


def test_times_are_iso_8601_and_naive_ones_are_utc() -> None:
    query = LogQuery.parse(
        {"startTime": "2026-01-02T03:04:05", "endTime": "2026-01-02T05:00+02:00"}
    )
    assert query.filters["starttime"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert query.filters["endtime"] == datetime(
        2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2))
    )
    where, args = query.where()
    assert where.endswith("AND l.enqueued_at >= $2 AND l.enqueued_at <= $3")
    assert args == [query.filters["starttime"], query.filters["endtime"]]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-13-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
)
def test_a_time_that_cannot_be_held_is_a_400(value: str) -> None:
    assert refused(query={"startTime": value}) == (
        "Query parameter 'starttime' must be an ISO-8601 date-time"
    )


def test_unstorable_text_is_a_400_naming_the_filter() -> None:
    assert refused(query={"correlationId": "a\x00b"}) == (
        "correlationid holds a character that cannot be stored (NUL or a lone surrogate)"
    )


def test_the_size_comes_from_limit_else_the_page_size_header() -> None:
    assert LogQuery.parse({"transactionId": "t", "limit": "7"}).limit == 7
    assert LogQuery.parse({"transactionId": "t"}, page_size_header="9").limit == 9
    assert LogQuery.parse({"transactionId": "t", "LIMIT": "3"}, page_size_header="9").limit == 3
    assert refused(query={"transactionId": "t", "limit": "0"}) == (
        "Query parameter 'limit' must be a whole number from 1 to 1000"
    )
    assert refused(query={"transactionId": "t"}, page_size_header="x") == (
        "Header 'PageSize' must be a whole number from 1 to 1000"
    )


def test_a_token_is_bound_to_the_filters_whatever_their_order() -> None:
    one = LogQuery.parse({"transactionId": "t", "entityId": "e"})
    two = LogQuery.parse({"entityid": "e", "transactionid": "t"})
    assert one.binding == two.binding == ("status-logs", ("entityid", "e"), ("transactionid", "t"))
    assert LogQuery.parse({"transactionId": "u"}).binding != one.binding


def test_tracker_urls_quote_the_item_id() -> None:
    assert item_tracker("http://h", "entity", "a b/c&d", "T") == (
        "http://h/apollo/status/logs?entityid=a%20b%2Fc%26d&transactionid=T"
    )
    assert batch_tracker("http://h", "T") == "http://h/apollo/status/logs?transactionid=T"
