"""SQL of the one completion path: every outcome of a batch in one statement, fenced by the
lease. Beside ``store.py`` (which re-exports it), which holds the rest of the jobs table's SQL.

A small batch's statement also returns each finished row (all but its result, which the worker
already holds), so that the done announcement can carry it and a waiter need not read it back;
a large batch returns its tokens only, which keeps a busy worker's cost per job where it was.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from shared.db import Executor
from shared.jobs.model import JobRecord, JobState
from shared.text import json_text

# Outcomes per statement up to which the finished rows come back (see the module's text).
ROWS_BATCH_MAX = 8

# (A batch's result, the Apollo shape, also gives its item counts, from item_counts.) Fenced by the lease so a
# worker that lost its lease cannot overwrite what the job's new owner records.
_FINISH = """
UPDATE jobs AS j
SET state = o.state, result = o.result::json, error_status = o.error_status,
    error_message = o.error_message, error_details = o.error_details::jsonb,
    finished_at = now(), changed_at = now(), lease_owner = NULL, lease_expires_at = NULL,
    progress_current = CASE WHEN o.state = 'COMPLETE'
                            THEN greatest(j.progress_current, j.progress_total)
                            ELSE j.progress_current END,
    progress_message = initcap(o.state), etag = gen_random_uuid(),
    items_stored = o.items_stored, items_failed = o.items_failed,
    crash_traceback = o.crash_traceback
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $8::text[],
            $9::int[], $10::int[])
     AS o(token, state, result, error_status, error_message, error_details, crash_traceback,
          items_stored, items_failed)
WHERE j.token = o.token AND j.state = 'PROCESSING' AND j.lease_owner IS NOT DISTINCT FROM $7
"""
FINISH_JOBS = _FINISH + "RETURNING j.token"
FINISH_JOBS_RETURNING_ROWS = (
    _FINISH
    + "RETURNING "
    + ", ".join(f"j.{f.name}" for f in fields(JobRecord) if f.name != "result_json")
)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ended: its state and either its result or its error."""

    token: str
    state: JobState
    result: Any = None
    error_status: int | None = None
    error_message: str | None = None
    error_details: Any = None
    crash_traceback: str | None = None


def _json_text(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, list) else None


def item_counts(result: Any) -> tuple[int | None, int | None]:
    """A batch result's stored and failed item counts (the lengths of its ``responses``'
    ``success`` and ``failure`` arrays; None for a result that has none, as for any job that is
    no batch). Counted here, not in SQL: ``#>`` and ``json_array_length`` on the stored text
    parse the whole result again each time, about 0.2 CPU-seconds of PostgreSQL for a
    10000-item batch's 2 MB (issue 21)."""
    responses = result.get("responses") if isinstance(result, dict) else None
    if not isinstance(responses, dict):
        return None, None
    return _length(responses.get("success")), _length(responses.get("failure"))


async def finish(db: Executor, outcomes: list[JobOutcome], owner: str | None) -> set[str]:
    """Record every outcome at once; the tokens actually finished by this call."""
    return set(await _finish(db, FINISH_JOBS, outcomes, owner))


async def finish_returning_rows(
    db: Executor, outcomes: list[JobOutcome], owner: str | None
) -> dict[str, JobRecord | None]:
    """Like ``finish``: each token finished by this call, with its final row when the batch is
    small enough to return rows (``ROWS_BATCH_MAX``), else None."""
    if len(outcomes) > ROWS_BATCH_MAX:
        return dict.fromkeys(await _finish(db, FINISH_JOBS, outcomes, owner))
    texts = {o.token: _json_text(o.result) for o in outcomes}
    rows = await _finish(db, FINISH_JOBS_RETURNING_ROWS, outcomes, owner, texts)
    return {
        token: JobRecord.from_row({**row, "result_json": texts[token]})
        for token, row in rows.items()
    }


async def _finish(
    db: Executor,
    statement: str,
    outcomes: list[JobOutcome],
    owner: str | None,
    result_texts: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    texts = result_texts or {o.token: _json_text(o.result) for o in outcomes}
    counts = [item_counts(o.result) for o in outcomes]
    rows = await db.fetch(
        statement,
        [o.token for o in outcomes],
        [o.state.value for o in outcomes],
        [texts[o.token] for o in outcomes],
        [o.error_status for o in outcomes],
        [o.error_message for o in outcomes],
        [_json_text(o.error_details) for o in outcomes],
        owner,
        [o.crash_traceback for o in outcomes],
        [stored for stored, _ in counts],
        [failed for _, failed in counts],
    )
    return {row["token"]: row for row in rows}
