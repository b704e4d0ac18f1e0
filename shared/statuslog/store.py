"""Writing status logs, set-based: one statement per step for a whole batch or chunk.

Each step only moves records forward (Requested -> Processing -> Completed | Failed) and a
final state is never written twice, so a job that runs again after a crash neither duplicates
records (they are unique per transaction and item) nor their final history entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

Executor = asyncpg.Pool | asyncpg.Connection


class State(StrEnum):
    REQUESTED = "Requested"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"


FINAL_STATES = [State.COMPLETED.value, State.FAILED.value]


def history_entry(state_sql: str) -> str:
    """SQL for one ``stateHistory`` entry: the state and the moment it was reached."""
    return (
        f"jsonb_build_array(jsonb_build_object('state', {state_sql}, 'timestamp', "
        "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')))"
    )


INSERT_REQUESTED = f"""
INSERT INTO status_logs
    (transaction_id, correlation_id, collection_id, item_kind, item_id, position, state,
     state_history)
SELECT $1, $2, $3, $4, u.item_id, u.position - 1, 'Requested', {history_entry("'Requested'")}
FROM unnest($5::text[]) WITH ORDINALITY AS u(item_id, position)
ON CONFLICT (transaction_id, item_kind, item_id) DO NOTHING
"""
# A record found already Processing belongs to an attempt that was interrupted: count a retry
# rather than repeat the history entry.
MARK_PROCESSING = f"""
UPDATE status_logs
SET retry_count = retry_count + CASE WHEN state = 'Processing' THEN 1 ELSE 0 END,
    state_history = CASE WHEN state = 'Processing' THEN state_history
                         ELSE state_history || {history_entry("'Processing'")} END,
    state = 'Processing',
    received_at = coalesce(received_at, clock_timestamp())
WHERE transaction_id = $1 AND item_kind = $2 AND item_id = ANY($3::text[])
  AND state IN ('Requested', 'Processing')
"""
RECORD_OUTCOMES = f"""
UPDATE status_logs AS l
SET state = u.state, message = u.message,
    state_history = l.state_history || {history_entry("u.state")},
    received_at = coalesce(l.received_at, clock_timestamp())
FROM unnest($3::text[], $4::text[], $5::text[]) AS u(item_id, state, message)
WHERE l.transaction_id = $1 AND l.item_kind = $2 AND l.item_id = u.item_id
  AND l.state NOT IN ('Completed', 'Failed')
"""
FAIL_UNFINISHED = f"""
UPDATE status_logs
SET state = 'Failed', message = $3, state_history = state_history || {history_entry("'Failed'")}
WHERE transaction_id = $1 AND item_kind = $2 AND state IN ('Requested', 'Processing')
"""
FINAL_OUTCOMES = """
SELECT item_id, state, message FROM status_logs
WHERE transaction_id = $1 AND item_kind = $2 AND state = ANY($3::text[])
"""
ALL_OUTCOMES = """
SELECT item_id, state, message FROM status_logs
WHERE transaction_id = $1 AND item_kind = $2
ORDER BY position
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    item_id: str
    state: State
    message: str

    @property
    def ok(self) -> bool:
        return self.state is State.COMPLETED


async def insert_requested(
    db: Executor,
    transaction_id: str,
    correlation_id: str,
    collection_id: str,
    item_kind: str,
    item_ids: Sequence[str],
) -> None:
    await db.execute(
        INSERT_REQUESTED,
        transaction_id,
        correlation_id,
        collection_id,
        item_kind,
        list(item_ids),
    )


async def mark_processing(
    db: Executor, transaction_id: str, item_kind: str, item_ids: Sequence[str]
) -> None:
    await db.execute(MARK_PROCESSING, transaction_id, item_kind, list(item_ids))


async def record_outcomes(
    db: Executor, transaction_id: str, item_kind: str, outcomes: Sequence[Outcome]
) -> None:
    await db.execute(
        RECORD_OUTCOMES,
        transaction_id,
        item_kind,
        [outcome.item_id for outcome in outcomes],
        [outcome.state.value for outcome in outcomes],
        [outcome.message for outcome in outcomes],
    )


async def fail_unfinished(db: Executor, transaction_id: str, item_kind: str, message: str) -> None:
    """A batch job that failed as a whole: every item it did not finish failed with it."""
    await db.execute(FAIL_UNFINISHED, transaction_id, item_kind, message)


def _outcome(row: asyncpg.Record) -> Outcome:
    return Outcome(row["item_id"], State(row["state"]), row["message"])


async def final_outcomes(db: Executor, transaction_id: str, item_kind: str) -> dict[str, Outcome]:
    """Items a previous attempt already finished, by item id."""
    rows = await db.fetch(FINAL_OUTCOMES, transaction_id, item_kind, FINAL_STATES)
    return {row["item_id"]: _outcome(row) for row in rows}


async def outcomes_in_order(db: Executor, transaction_id: str, item_kind: str) -> list[Outcome]:
    return [_outcome(row) for row in await db.fetch(ALL_OUTCOMES, transaction_id, item_kind)]
