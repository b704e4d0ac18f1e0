"""The pure helpers of the peers' bench (tests/bench_peer_jobs.py); no peer is installed here."""

from __future__ import annotations

import pytest

from tests.bench_peer_jobs import parse_driver_output, ratio, report


def test_ratio_is_brickyard_over_peer_and_none_without_both_figures() -> None:
    assert ratio(3000, 1500) == 2.0
    assert ratio(2.7, 2.8) == 0.96
    assert ratio(3000, 0) is None
    assert ratio(None, 10) is None


def test_driver_output_is_the_last_json_object_line_whatever_was_logged() -> None:
    stdout = 'starting worker\n{"drain_1": {"per_s": 10}}\n'
    assert parse_driver_output(stdout) == {"drain_1": {"per_s": 10}}
    with pytest.raises(ValueError):
        parse_driver_output("Traceback ...\n[1, 2]\n")


def test_a_skipped_peer_is_reported_as_such_and_a_missing_figure_has_no_ratio() -> None:
    ours = {"drain_1": 3000, "drain_2": 3600, "p50_ms": 2.7, "p99_ms": 3.9}
    assert report("saq", {"skipped": "no network"}, ours) == {"skipped": "no network"}
    row = report("saq", {"drain_1": {"per_s": 1500}, "round_trip": {"p50_ms": 2.7}}, ours)
    assert (row["1w_ratio"], row["2w_ratio"], row["p50_ms_ratio"]) == (2.0, None, 1.0)
