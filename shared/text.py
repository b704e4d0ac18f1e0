"""Generic helpers for values written as text: one home, so every API family spells a moment the
same way. Domain packages import from here, never from each other, for these."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds, UTC written as ``Z`` (2018-10-08T05:50:13.573Z)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
