"""Reading and pruning the change feed: blocks of events written by triggers (migrations 013
and 022), numbered after commit by 022's sequencer. Every read numbers what is pending first, so a read
made after a write commits sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.changefeed.rows import FeedEvent
from shared.db import Executor, fetch_as
from shared.errors import BrickyardError

# $1 collection; $2..$5 the optional bounds (sequence ids, then times); $6 resume after; $7 limit.
BLOCK_BOUNDS = """
collection_id = $1 AND first_sequence IS NOT NULL
AND ($2::bigint IS NULL OR last_sequence >= $2) AND ($3::bigint IS NULL OR first_sequence <= $3)
AND ($4::timestamptz IS NULL OR recorded_at >= $4)
AND ($5::timestamptz IS NULL OR recorded_at <= $5)
"""
# Each block holds a statement's events (migration 022); the count needs no event of its own.
COUNT = f"""
SELECT coalesce(sum(least(last_sequence, coalesce($3, last_sequence))
                    - greatest(first_sequence, coalesce($2, first_sequence)) + 1), 0)::bigint
FROM er_changefeed_blocks WHERE {BLOCK_BOUNDS}
"""
# The blocks after $6, only as many as hold $7 events within the bounds, then their events.
# An event's id is derived from its block (never reused) unless 013 gave it one.
# The correlation id is the writing transaction's, as its status log kept it.
PAGE = f"""
WITH next_blocks AS (
    SELECT * FROM er_changefeed_blocks
    WHERE {BLOCK_BOUNDS} AND last_sequence > $6
    ORDER BY last_sequence LIMIT $7
), needed AS (
    SELECT * FROM (
        SELECT b.*, sum(least(b.last_sequence, coalesce($3, b.last_sequence))
                        - greatest(b.first_sequence, $6 + 1, coalesce($2, b.first_sequence)) + 1)
                    OVER (ORDER BY b.last_sequence ROWS UNBOUNDED PRECEDING EXCLUDE CURRENT ROW)
                    AS before
        FROM next_blocks b
    ) AS counted
    WHERE coalesce(before, 0) < $7
), events AS (
    SELECT b.first_sequence + u.n - 1 AS sequence_id,
           coalesce(b.notification_ids[u.n], md5(b.block_no || ':' || u.n)::uuid)
               AS notification_id,
           b.notification_type, b.item_kind, u.item_id, u.item_type, u.item_version,
           u.transaction_id, b.recorded_at
    FROM needed b,
         unnest(b.item_ids, b.item_types, b.item_versions, b.transaction_ids)
             WITH ORDINALITY AS u(item_id, item_type, item_version, transaction_id, n)
)
SELECT f.*,
       (SELECT l.correlation_id FROM status_logs l
        WHERE l.transaction_id = f.transaction_id AND l.item_kind = f.item_kind
          AND l.item_id = f.item_id) AS correlation_id
FROM events f
WHERE f.sequence_id > $6 AND ($2::bigint IS NULL OR f.sequence_id >= $2)
  AND ($3::bigint IS NULL OR f.sequence_id <= $3)
ORDER BY f.sequence_id LIMIT $7
"""
ANY_PENDING = "SELECT EXISTS (SELECT 1 FROM er_changefeed_blocks WHERE first_sequence IS NULL)"
SEQUENCE_PENDING = "SELECT er_changefeed_sequence()"
COUNTER = """
SELECT last_sequence, pruned_through FROM er_changefeed_counters WHERE collection_id = $1
"""
# One statement: what goes, and each collection's high-water mark of what went.
PRUNE = """
WITH gone AS (
    DELETE FROM er_changefeed_blocks
    WHERE first_sequence IS NOT NULL AND recorded_at < now() - make_interval(secs => $1)
    RETURNING collection_id, last_sequence
), marks AS (
    SELECT collection_id, max(last_sequence) AS through FROM gone GROUP BY collection_id
)
UPDATE er_changefeed_counters c SET pruned_through = greatest(c.pruned_through, m.through)
FROM marks m WHERE c.collection_id = m.collection_id
"""
# The feed keeper's lock (shared/changefeed/wakeups.py), one per schema: schemas that share a
# database each have a keeper. A session lock, so the keeper holds it until its connection is
# lost. (Its text still says bridge, the keeper's name before migration 027: a gateway of either
# version takes the same lock.)
TRY_KEEPER_LOCK = "SELECT pg_try_advisory_lock(hashtext('brickyard changefeed bridge ' || $1))"


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


async def catch_up(db: Executor) -> int:
    """Number the committed events still pending; how many were numbered. The look for any is
    one cheap probe, so readers pay for a pass only when writers left something."""
    if not await db.fetchval(ANY_PENDING):
        return 0
    return int(await db.fetchval(SEQUENCE_PENDING))


async def counter(db: Executor, collection_id: str) -> Counter:
    await catch_up(db)
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
) -> tuple[int, list[FeedEvent]]:
    """The count of every event within ``bounds``, and ``limit`` of them after ``after``."""
    await catch_up(db)
    total = await db.fetchval(COUNT, collection_id, *bounds.args())
    rows = await fetch_as(db, FeedEvent, PAGE, collection_id, *bounds.args(), after, limit)
    return total, rows


async def events_after(
    db: Executor, collection_id: str, after: int, limit: int = 1000
) -> list[FeedEvent]:
    await catch_up(db)
    no_bounds = Bounds().args()
    return await fetch_as(db, FeedEvent, PAGE, collection_id, *no_bounds, after, limit)


async def prune(db: Executor, retention_s: float) -> None:
    """Remove the events older than the retention, remembering how far each feed was cut."""
    await catch_up(db)  # else old events still pending would outlive the cut
    await db.execute(PRUNE, retention_s)


async def try_keeper_lock(conn: asyncpg.Connection, schema: str) -> bool:
    """Whether ``conn`` now holds the keeper's lock (a connection: the pool would give the
    session that holds it back)."""
    return bool(await conn.fetchval(TRY_KEEPER_LOCK, schema))
