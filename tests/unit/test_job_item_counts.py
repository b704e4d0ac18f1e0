"""A job's stored and failed item counts, as its row keeps them (migration 030), counted from
the result in Python rather than by parsing its stored text again in PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from shared.jobs.store import item_counts


@pytest.mark.parametrize(
    ("result", "counts"),
    [
        ({"responses": {"success": [{}, {}], "failure": [{}]}}, (2, 1)),
        ({"responses": {"success": [], "failure": []}}, (0, 0)),
        ({"responses": {"success": [{}]}}, (1, None)),
        # What json_array_length_or_null(result #> '{responses,...}') gave for anything else.
        ({"responses": {"success": "all", "failure": {"n": 1}}}, (None, None)),
        ({"responses": [[{}], [{}]]}, (None, None)),
        ({"newVersionInfo": {}}, (None, None)),
        ([1, 2], (None, None)),
        ("done", (None, None)),
        (None, (None, None)),
    ],
)
def test_only_arrays_under_responses_count(result: Any, counts: tuple[int | None, ...]) -> None:
    assert item_counts(result) == counts
