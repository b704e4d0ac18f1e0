"""What a change-feed read asks for: its bounds, and where a live stream starts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.changefeed.store import Bounds
from shared.errors import BadRequest
from shared.text import whole_number

# Names are case-insensitive, as on the status-log routes.
KNOWN = ("startsequenceid", "endsequenceid", "starttime", "endtime", "limit")
MAX_SEQUENCE = 2**63 - 1


def sequence(name: str, value: str | None) -> int | None:
    if value is None or value == "":
        return None
    found = whole_number(value, 0, MAX_SEQUENCE)
    if found is None:
        raise BadRequest(f"'{name}' must be a sequence id: a whole number, 0 or more")
    return found


def moment(name: str, value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        parsed.astimezone(UTC)  # a date PostgreSQL can hold once in UTC
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"Query parameter '{name}' must be an ISO-8601 date-time") from exc
    return parsed


def lowered(query: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in query.items()}


def bounds(query: Mapping[str, str]) -> Bounds:
    """``startSequenceId``, ``endSequenceId``, ``startTime``, ``endTime``: each optional."""
    asked = lowered(query)
    found = Bounds(
        sequence("startSequenceId", asked.get("startsequenceid")),
        sequence("endSequenceId", asked.get("endsequenceid")),
        moment("startTime", asked.get("starttime")),
        moment("endTime", asked.get("endtime")),
    )
    if found.start_sequence is not None and found.end_sequence is not None:
        if found.start_sequence > found.end_sequence:
            raise BadRequest("startSequenceId is after endSequenceId")
    return found


def stream_start(last_event_id: str | None, query: Mapping[str, str]) -> int | None:
    """The sequence a stream resumes after: ``Last-Event-ID`` (the last one the client saw),
    else ``startSequenceId`` - 1; None streams what happens from now on."""
    if last_event_id is not None and last_event_id.strip() != "":
        seen = sequence("Last-Event-ID", last_event_id.strip())
        return seen
    start = sequence("startSequenceId", lowered(query).get("startsequenceid"))
    return None if start is None else max(start - 1, 0)
