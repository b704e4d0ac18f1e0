"""What a change-feed read asks for, parsed from its query and Last-Event-ID."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.changefeed.query import MAX_SEQUENCE, bounds, moment, sequence, stream_start
from shared.changefeed.store import Bounds
from shared.errors import BadRequest


def test_sequences() -> None:
    assert sequence("startSequenceId", None) is None
    assert sequence("startSequenceId", "") is None
    assert sequence("startSequenceId", "0") == 0
    assert sequence("startSequenceId", str(MAX_SEQUENCE)) == MAX_SEQUENCE
    for text in ("-1", "1.5", "x", str(MAX_SEQUENCE + 1), "9" * 5000):
        with pytest.raises(BadRequest) as caught:
            sequence("endSequenceId", text)
        assert (
            str(caught.value) == "'endSequenceId' must be a sequence id: a whole number, 0 or more"
        )


def test_moments_default_to_utc() -> None:
    assert moment("startTime", None) is None
    assert moment("startTime", "") is None
    assert moment("startTime", "2024-01-02T03:04:05") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    offset = moment("startTime", "2024-01-02T03:04:05+02:00")
    assert offset == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert offset is not None and offset.utcoffset() == timedelta(hours=2)
    assert offset.tzinfo == timezone(timedelta(hours=2))


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "0001-01-01T00:00:00+01:00"])
def test_bad_moments(text: str) -> None:
    with pytest.raises(BadRequest) as caught:
        moment("endTime", text)
    assert str(caught.value) == "Query parameter 'endTime' must be an ISO-8601 date-time"


def test_bounds_are_case_insensitive() -> None:
    assert bounds({}) == Bounds()
    assert bounds(
        {"STARTSEQUENCEID": "2", "endSequenceId": "2", "starttime": "2024-01-01", "EndTime": ""}
    ) == Bounds(2, 2, datetime(2024, 1, 1, tzinfo=UTC), None)


def test_bounds_in_order() -> None:
    with pytest.raises(BadRequest) as caught:
        bounds({"startSequenceId": "3", "endSequenceId": "2"})
    assert str(caught.value) == "startSequenceId is after endSequenceId"
    assert bounds({"startSequenceId": "3"}) == Bounds(3)
    assert bounds({"endSequenceId": "0"}) == Bounds(None, 0)


def test_a_stream_resumes_after_the_last_event_seen() -> None:
    assert stream_start(None, {}) is None
    assert stream_start("  ", {}) is None
    assert stream_start(" 7 ", {"startSequenceId": "100"}) == 7
    assert stream_start(None, {"startsequenceid": "100"}) == 99
    assert stream_start("", {"startSequenceId": "0"}) == 0
    assert stream_start(None, {"startSequenceId": "1"}) == 0
    with pytest.raises(BadRequest, match="'Last-Event-ID' must be a sequence id"):
        stream_start("x", {})
