"""Reading and pruning the change feed (``er_changefeed``, written by migration 013's triggers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Executor
from shared.errors import BrickyardError

# $1 collection; $2..$5 the optional bounds (sequence ids, then times); $6 resume after; $7 limit.
WHERE = """
collection_id = $1
AND ($2::bigint IS NULL OR sequence_id >= $2) AND ($3::bigint IS NULL OR sequence_id <= $3)
AND ($4::timestamptz IS NULL OR recorded_at >= $4)
AND ($5::timestamptz IS NULL OR recorded_at <= $5)
"""
# The correlation id is the writing transaction's, as its status log kept it.
EVENT_COLUMNS = """
f.sequence_id, f.notification_id, f.notification_type, f.item_kind, f.item_id, f.item_type,
f.item_version, f.transaction_id, f.recorded_at,
(SELECT l.correlation_id FROM status_logs l
 WHERE l.transaction_id = f.transaction_id AND l.item_kind = f.item_kind
   AND l.item_id = f.item_id) AS correlation_id
"""
COUNT = f"SELECT count(*) FROM er_changefeed WHERE {WHERE}"
PAGE = f"""
SELECT {EVENT_COLUMNS} FROM er_changefeed f
WHERE {WHERE} AND sequence_id > $6 ORDER BY sequence_id LIMIT $7
"""
AFTER = f"""
SELECT {EVENT_COLUMNS} FROM er_changefeed f
WHERE collection_id = $1 AND sequence_id > $2 ORDER BY sequence_id LIMIT $3
"""
COUNTER = """
SELECT last_sequence, pruned_through FROM er_changefeed_counters WHERE collection_id = $1
"""
# One statement: what goes, and each collection's high-water mark of what went.
PRUNE = """
WITH gone AS (
    DELETE FROM er_changefeed WHERE recorded_at < now() - make_interval(secs => $1)
    RETURNING collection_id, sequence_id
), marks AS (
    SELECT collection_id, max(sequence_id) AS through FROM gone GROUP BY collection_id
)
UPDATE er_changefeed_counters c SET pruned_through = greatest(c.pruned_through, m.through)
FROM marks m WHERE c.collection_id = m.collection_id
"""
# The bridge's lock (shared/changefeed/wake.py), one per schema: schemas that share a database
# each have a bridge. A session lock, so the bridge holds it until its connection is lost.
TRY_BRIDGE_LOCK = "SELECT pg_try_advisory_lock(hashtext('brickyard changefeed bridge ' || $1))"


class Gone(BrickyardError):
    """410: the events asked for are older than the retention and were removed."""

    status = 410
    default_message = "Gone"


@dataclass(frozen=True, slots=True)
class Bounds:
    start_sequence: int | None = None
    end_sequence: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None

    def args(self) -> tuple[object, ...]:
        return (self.start_sequence, self.end_sequence, self.start_time, self.end_time)


@dataclass(frozen=True, slots=True)
class Counter:
    last_sequence: int
    pruned_through: int


async def counter(db: Executor, collection_id: str) -> Counter:
    row = await db.fetchrow(COUNTER, collection_id)
    return Counter(row["last_sequence"], row["pruned_through"]) if row else Counter(0, 0)


async def require_retained(
    db: Executor, collection_id: str, first_wanted: int, retention_s: float
) -> Counter:
    """410 when ``first_wanted`` (a sequence id) was removed by retention."""
    found = await counter(db, collection_id)
    if first_wanted <= found.pruned_through:
        raise Gone(
            f"Sequence {first_wanted} of ercollection '{collection_id}' is older than the "
            f"change feed's retention ({retention_s:g} s): events up to {found.pruned_through} "
            f"were removed; read from {found.pruned_through + 1}"
        )
    return found


async def page(
    db: Executor, collection_id: str, bounds: Bounds, after: int, limit: int
) -> tuple[int, list[asyncpg.Record]]:
    """The count of every event within ``bounds``, and ``limit`` of them after ``after``."""
    total = await db.fetchval(COUNT, collection_id, *bounds.args())
    rows = await db.fetch(PAGE, collection_id, *bounds.args(), after, limit)
    return total, rows


async def events_after(
    db: Executor, collection_id: str, after: int, limit: int = 1000
) -> list[asyncpg.Record]:
    events: list[asyncpg.Record] = await db.fetch(AFTER, collection_id, after, limit)
    return events


async def prune(db: Executor, retention_s: float) -> None:
    """Remove the events older than the retention, remembering how far each feed was cut."""
    await db.execute(PRUNE, retention_s)


async def try_bridge_lock(conn: asyncpg.Connection, schema: str) -> bool:
    """Whether ``conn`` now holds the bridge's lock (a connection: the pool would give the
    session that holds it back)."""
    return bool(await conn.fetchval(TRY_BRIDGE_LOCK, schema))
