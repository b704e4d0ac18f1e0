"""Status logs: writing them, set-based (one statement per step for a whole batch or chunk), and
the reads of the status routes.

An asynchronous batch's item gets its whole record (Requested at acceptance, Processing, final)
in the transaction that writes the item; only if something reads status logs before that, or
the batch is removed unprocessed, is its Requested record written first (migration 024), and
then completed by that transaction.
A synchronous batch writes each record once, final, with its whole history. A final state is
never written over another, so a chunk that runs again after a crash neither duplicates records
(they are unique per transaction and item) nor their final history entry. A delete, which runs
within its request, writes its records once too, Completed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

import asyncpg

from shared.db import Executor, fetch_as
from shared.statuslog.rows import StatusRecord, TransactionItem


class State(StrEnum):
    REQUESTED = "Requested"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"


FINAL_STATES = [State.COMPLETED.value, State.FAILED.value]


def stamp(moment_sql: str) -> str:
    """SQL for a ``stateHistory`` timestamp: UTC, milliseconds, ``Z``."""
    return f"""to_char({moment_sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


def entry(state_sql: str, moment_sql: str) -> str:
    """SQL for one ``stateHistory`` entry as a one-element jsonb array."""
    return f"jsonb_build_array(jsonb_build_object('state', {state_sql}, 'timestamp', {stamp(moment_sql)}))"


# A chunk's records, in the transaction that writes its items: whole (Requested when the batch
# was accepted, Processing when this transaction began, the final state now), or, for an item
# whose Requested record a reader had written already, its history completed. Both possible
# histories are built once per statement, not once per row. A final state is never replaced.
RECORD_OUTCOMES = f"""
INSERT INTO status_logs AS l
    (transaction_id, correlation_id, collection_id, item_kind, item_id, position, state, message,
     retry_count, received_at, enqueued_at, state_history)
SELECT $1, b.correlation_id, b.collection_id, $2, u.item_id, u.position, u.state, u.message, $6,
       now(), b.created_at, CASE u.state WHEN 'Completed' THEN b.completed ELSE b.failed END
FROM (SELECT x.correlation_id, x.collection_id, x.created_at,
             r.started || {entry("'Completed'", "clock_timestamp()")} AS completed,
             r.started || {entry("'Failed'", "clock_timestamp()")} AS failed
      FROM er_batches x,
           LATERAL (SELECT {entry("'Requested'", "x.created_at")}
                           || {entry("'Processing'", "now()")} AS started) AS r
      WHERE x.transaction_id = $1) AS b,
     unnest($3::text[], $4::text[], $5::text[], $7::int[]) AS u(item_id, state, message, position)
ON CONFLICT (transaction_id, item_kind, item_id) DO UPDATE
SET state = EXCLUDED.state, message = EXCLUDED.message, retry_count = EXCLUDED.retry_count,
    received_at = coalesce(l.received_at, EXCLUDED.received_at),
    state_history = l.state_history || (EXCLUDED.state_history - 0)
WHERE l.state NOT IN ('Completed', 'Failed')
"""
# Requested records of accepted batches whose chunks no one has processed yet (migration 024):
# every read of status logs writes them first, so that it sees every item.
ANY_UNLOGGED = "SELECT EXISTS (SELECT 1 FROM er_batch_chunks WHERE NOT done AND NOT logs_written)"
WRITE_REQUESTED = "SELECT er_write_requested_logs(NULL)"
# A synchronous batch: requested, processed and finished in one transaction, written once. Both
# possible histories are built once per statement, not once per row.
INSERT_OUTCOMES = f"""
INSERT INTO status_logs
    (transaction_id, correlation_id, collection_id, item_kind, item_id, position, state,
     message, received_at, state_history)
SELECT $1, $2, $3, $4, u.item_id, u.position - 1, u.state, u.message, now(),
       CASE u.state WHEN 'Completed' THEN h.completed ELSE h.failed END
FROM (SELECT started || {entry("'Completed'", "clock_timestamp()")} AS completed,
             started || {entry("'Failed'", "clock_timestamp()")} AS failed
      FROM (SELECT {entry("'Requested'", "now()")} || {entry("'Processing'", "now()")}
                   AS started) AS s) AS h,
     unnest($5::text[], $6::text[], $7::text[]) WITH ORDINALITY
         AS u(item_id, state, message, position)
"""
# A delete's records (shared/er/delete.py): Requested, Processing and Completed at once.
INSERT_DELETED = """
INSERT INTO status_logs
    (transaction_id, correlation_id, collection_id, item_kind, item_id, position,
     request_action, state, message, received_at, state_history)
SELECT $1, $2, d.collection_id, d.item_kind, d.item_id, d.position - 1, 'Delete', 'Completed',
       'Deleted', now(), h.history
FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY
         AS d(collection_id, item_kind, item_id, position),
     (SELECT jsonb_agg(jsonb_build_object('state', s, 'timestamp', t)) AS history
      FROM (SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t) AS m,
           unnest(ARRAY['Requested', 'Processing', 'Completed']) AS s) AS h
"""
# Within the transaction that recorded them: records whose item the upsert did not write after
# all. Their last history entry (Completed, not yet committed) becomes Failed.
CORRECT_TO_FAILED = f"""
UPDATE status_logs
SET state = 'Failed', message = $4, state_history = (state_history - (-1)) || h.failed
FROM (SELECT {entry("'Failed'", "clock_timestamp()")} AS failed) AS h
WHERE transaction_id = $1 AND item_kind = $2 AND item_id = ANY($3::text[])
"""
FAIL_UNFINISHED = f"""
UPDATE status_logs
SET state = 'Failed', message = $3, state_history = state_history || h.failed
FROM (SELECT {entry("'Failed'", "clock_timestamp()")} AS failed) AS h
WHERE transaction_id = $1 AND item_kind = $2 AND state IN ('Requested', 'Processing')
"""
FINAL_OUTCOMES = """
SELECT item_id, state, message FROM status_logs
WHERE transaction_id = $1 AND item_kind = $2 AND state = ANY($3::text[])
"""
# As three arrays, sorted here by position: a 10000-item batch's answer costs three values to
# decode instead of 10000 records.
ALL_OUTCOMES = """
SELECT coalesce(array_agg(position), '{}') AS positions, coalesce(array_agg(item_id), '{}') AS ids,
       coalesce(array_agg(state), '{}') AS states, coalesce(array_agg(message), '{}') AS messages
FROM status_logs
WHERE transaction_id = $1 AND item_kind = $2
"""


class ItemOutcome(NamedTuple):  # a tuple: tens of thousands are made per batch
    item_id: str
    state: State
    message: str

    @property
    def ok(self) -> bool:
        return self.state is State.COMPLETED


def outcome_columns(outcomes: Sequence[ItemOutcome]) -> tuple[list[str], list[str], list[str]]:
    """The outcomes as INSERT_OUTCOMES' last three arguments: ids, states, messages."""
    return (
        [outcome.item_id for outcome in outcomes],
        [outcome.state.value for outcome in outcomes],
        [outcome.message for outcome in outcomes],
    )


async def write_requested(db: Executor) -> int:
    """Write the Requested records no one has written yet; how many. One cheap probe when there
    are none, which is almost always."""
    if not await db.fetchval(ANY_UNLOGGED):
        return 0
    return int(await db.fetchval(WRITE_REQUESTED))


async def record_outcomes(
    db: Executor,
    transaction_id: str,
    item_kind: str,
    outcomes: Sequence[ItemOutcome],
    first_position: int,
    retry_count: int = 0,
) -> None:
    """The records of a chunk's items (``outcomes`` in the chunk's order, the first at batch
    position ``first_position``), inside the transaction that wrote the items."""
    positions = list(range(first_position, first_position + len(outcomes)))
    await db.execute(
        RECORD_OUTCOMES,
        transaction_id,
        item_kind,
        *outcome_columns(outcomes),
        retry_count,
        positions,
    )


async def insert_outcomes(
    db: Executor,
    transaction_id: str,
    correlation_id: str,
    collection_id: str,
    item_kind: str,
    outcomes: Sequence[ItemOutcome],
) -> None:
    """Whole records (Requested, Processing, final) for a batch run in one transaction."""
    await db.execute(
        INSERT_OUTCOMES,
        transaction_id,
        correlation_id,
        collection_id,
        item_kind,
        *outcome_columns(outcomes),
    )


async def insert_deleted(
    db: Executor,
    transaction_id: str,
    correlation_id: str,
    collection_ids: Sequence[str],
    item_kinds: Sequence[str],
    item_ids: Sequence[str],
) -> None:
    """Completed ``Delete`` records, one per deleted item (three parallel lists)."""
    await db.execute(
        INSERT_DELETED,
        transaction_id,
        correlation_id,
        list(collection_ids),
        list(item_kinds),
        list(item_ids),
    )


async def correct_to_failed(
    db: Executor, transaction_id: str, item_kind: str, item_ids: Sequence[str], message: str
) -> None:
    await db.execute(CORRECT_TO_FAILED, transaction_id, item_kind, list(item_ids), message)


async def fail_unfinished(db: Executor, transaction_id: str, item_kind: str, message: str) -> None:
    """A batch job that failed as a whole: every item it did not finish failed with it."""
    await db.execute(FAIL_UNFINISHED, transaction_id, item_kind, message)


_STATES = {state.value: state for state in State}  # a dict look-up, not an Enum call per row


def _outcome(row: asyncpg.Record) -> ItemOutcome:
    return ItemOutcome(row["item_id"], _STATES[row["state"]], row["message"])


async def final_outcomes(
    db: Executor, transaction_id: str, item_kind: str
) -> dict[str, ItemOutcome]:
    """Items already finished, by item id."""
    rows = await db.fetch(FINAL_OUTCOMES, transaction_id, item_kind, FINAL_STATES)
    return {row["item_id"]: _outcome(row) for row in rows}


async def outcomes_in_order(db: Executor, transaction_id: str, item_kind: str) -> list[ItemOutcome]:
    row = await db.fetchrow(ALL_OUTCOMES, transaction_id, item_kind)
    ids, states, messages = row["ids"], row["states"], row["messages"]
    order = sorted(range(len(ids)), key=row["positions"].__getitem__)
    return [ItemOutcome(ids[k], _STATES[states[k]], messages[k]) for k in order]


# Reads. A principal sees the logs of the collections it holds any role on.
VISIBLE = (
    "l.collection_id IN (SELECT collection_id FROM er_collection_grants WHERE principal_id = $1)"
)
# The payload is the version of the item this transaction wrote (current, or kept by a later
# upsert or delete); a delete's is its tombstone (migration 029). NULL when there is none:
# shared/statuslog/records.py tells a transaction that wrote nothing (a failed item) from one
# whose version is no longer kept by the record's state.
PAYLOAD = """
CASE l.item_kind WHEN 'entity' THEN coalesce(
    (SELECT e.body FROM er_entities e WHERE e.collection_id = l.collection_id
        AND e.id = l.item_id AND e.transaction_id = l.transaction_id),
    (SELECT v.body FROM er_entity_versions v WHERE v.collection_id = l.collection_id
        AND v.id = l.item_id AND v.transaction_id = l.transaction_id LIMIT 1))
ELSE coalesce(
    (SELECT r.body FROM er_relationships r WHERE r.collection_id = l.collection_id
        AND r.id = l.item_id AND r.transaction_id = l.transaction_id),
    (SELECT v.body FROM er_relationship_versions v WHERE v.collection_id = l.collection_id
        AND v.id = l.item_id AND v.transaction_id = l.transaction_id LIMIT 1))
END
"""
RECORD_COLUMNS = f"l.*, ({PAYLOAD}) AS payload"
TRANSACTION = f"""
SELECT l.item_kind, l.state, l.message, l.retry_count, l.correlation_id, l.collection_id,
       l.enqueued_at, l.received_at, l.request_action
FROM status_logs l
WHERE l.transaction_id = $2
  AND {VISIBLE}
ORDER BY l.position
"""
# Filter name (lower case: query names are case-insensitive) -> SQL condition on parameter {}.
CONDITIONS = {
    "transactionid": "l.transaction_id = ${}",
    "entityid": "l.item_kind = 'entity' AND l.item_id = ${}",
    "relationshipid": "l.item_kind = 'relationship' AND l.item_id = ${}",
    "correlationid": "l.correlation_id = ${}",
    # Collection ids are unique case-insensitively, and clients may spell them either way.
    "ercollectionid": "l.collection_id = (SELECT id FROM er_collections WHERE id_key = lower(${}))",
    "starttime": "l.enqueued_at >= ${}",
    "endtime": "l.enqueued_at <= ${}",
}
FILTERS = tuple(CONDITIONS)  # the filters logs can be searched by, in the order they apply
COUNT = "SELECT count(*) FROM status_logs l WHERE {where}"
PAGE = (
    f"SELECT {RECORD_COLUMNS} FROM status_logs l WHERE {{where}} AND l.seq > ${{after}} "
    "ORDER BY l.seq LIMIT ${limit}"
)


async def transaction_records(
    db: Executor, principal_id: int, transaction_id: str
) -> list[TransactionItem]:
    """The records of one transaction the principal may see, in the batch's order."""
    await write_requested(db)
    return await fetch_as(db, TransactionItem, TRANSACTION, principal_id, transaction_id)


def where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The WHERE clause (parameter $1 is the principal) and its arguments after $1."""
    clauses, args = [VISIBLE], []
    for name, value in filters.items():
        args.append(value)
        clauses.append(CONDITIONS[name].format(len(args) + 1))
    return " AND ".join(clauses), args


async def count_logs(db: Executor, principal_id: int, filters: Mapping[str, Any]) -> int:
    clause, args = where(filters)
    total: int = await db.fetchval(COUNT.format(where=clause), principal_id, *args)
    return total


async def page_logs(
    db: Executor, principal_id: int, filters: Mapping[str, Any], after: int, limit: int
) -> list[StatusRecord]:
    """``limit`` of the records ``filters`` match, after the sequence number ``after``."""
    clause, args = where(filters)
    sql = PAGE.format(where=clause, after=len(args) + 2, limit=len(args) + 3)
    return await fetch_as(db, StatusRecord, sql, principal_id, *args, after, limit)
