"""The done announcement's format: tokens first, then the final rows it carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.jobs.channels import (
    CARRIED_ROW_MAX,
    WAKE_TOKENS_MAX,
    carried_record,
    done_message,
    done_rows,
    done_tokens,
    wake_message,
    wake_tokens,
)
from shared.jobs.model import JobRecord, JobState

MOMENT = datetime(2026, 12, 7, 11, 27, 31, 123456, tzinfo=UTC)


def finished_job(token: str, **changes: object) -> JobRecord:
    values: dict[str, object] = {
        "token": token, "kind": "selftest", "principal_id": 7, "state": JobState.FAILED,
        "progress_current": 1, "progress_total": 2, "progress_message": "Failed",
        "request": {"message": "é", "n": [1, 2.5, None, True], "big": 2**70},
        "result_json": None, "error_status": 409, "error_message": "no",
        "error_details": {"b": 1, "a": [1]}, "attempts": 2,
        "etag": "0d9ec0b4-5a1e-4c0e-8a27-3b44e5f4a6c1", "created_at": MOMENT,
        "started_at": MOMENT + timedelta(milliseconds=1), "changed_at": MOMENT,
        "finished_at": MOMENT.replace(microsecond=0), "lease_owner": None,
        "lease_expires_at": None, "cancel_requested": False, "idempotency_key": "k",
        "request_sha256": "ab", "items_stored": None, "items_failed": 3,
        "attempt_workers": ["h:1:a", "h:2:b"], "attempt_started_at": [MOMENT, MOMENT],
        "crash_traceback": None,
    }  # fmt: skip
    values.update(changes)
    return JobRecord(**values)  # type: ignore[arg-type]


def test_a_carried_row_reads_back_as_the_same_record() -> None:
    failed = finished_job("a1")
    complete = finished_job("b2", state=JobState.COMPLETE, result_json='{"z":1,"a":"x"}')
    message = done_message(["a1", "b2", "c3"], {"a1": failed, "b2": complete})
    assert done_tokens(message) == ["a1", "b2", "c3"]
    rows = done_rows(message)
    assert set(rows) == {"a1", "b2"}  # c3 was announced by token only
    assert carried_record(rows["a1"]) == failed
    assert carried_record(rows["b2"]) == complete
    assert carried_record(rows["b2"]).result_json == '{"z":1,"a":"x"}'  # its text, as stored


def test_a_large_row_is_announced_by_token_only() -> None:
    large = finished_job("a1", result_json='"' + "x" * CARRIED_ROW_MAX + '"')
    message = done_message(["a1"], {"a1": large})
    assert done_tokens(message) == ["a1"] and done_rows(message) == {}


def test_tokens_only_is_the_format_of_before() -> None:
    assert done_message(["a1", "b2"]) == "a1 b2"
    assert done_tokens("a1 b2") == ["a1", "b2"] and done_rows("a1 b2") == {}


def test_a_wake_names_the_jobs_of_a_small_enqueue_only() -> None:
    few = [f"t{n}" for n in range(WAKE_TOKENS_MAX)]
    assert wake_tokens(wake_message(few)) == few
    assert wake_tokens(wake_message([*few, "one-more"])) == []  # claim from the queue
