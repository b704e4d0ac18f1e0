"""Announcing committed changes to feed readers, on Redis.

Whatever commits a change to items announces its collections (``announce``): the batch jobs
after each chunk, synchronous batches and deletes after their transaction. Readers are woken by
each gateway process's subscription to the channel (shared/changefeed/wakeups.py); a write
nothing announced is caught by the feed's keeper there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from redis.asyncio import Redis

from shared.outages import is_outage

log = structlog.get_logger(__name__)


def feed_channel(queue_name: str) -> str:
    """Published with a collection id (or ``*``) when its feed has new events."""
    return f"{queue_name}:changefeed"


# A process publishes a collection's changes at most once per window: the first at once, any
# later ones in the window together when it closes. A stream of synchronous batches would
# otherwise cost one Redis round trip each (5% of the gateway's time at 16 concurrent calls).
ANNOUNCE_WINDOW_S = 0.05

# (client, channel, collection) -> whether another change came while its window was open.
_windows: dict[tuple[Redis, str, str], bool] = {}
_late: set[asyncio.Task[None]] = set()


async def announce(redis: Redis, queue_name: str, collection_ids: Iterable[str]) -> None:
    """Wake the readers of collections whose items a committed transaction changed. Never an
    error for the writer: if Redis is down, the keeper's next pass wakes them."""
    await _announce_on(redis, feed_channel(queue_name), collection_ids)


async def _announce_on(redis: Redis, channel: str, collection_ids: Iterable[str]) -> None:
    for collection_id in sorted(set(collection_ids)):
        window = (redis, channel, collection_id)
        if window in _windows:
            _windows[window] = True  # published when the window closes
            continue
        _windows[window] = False
        asyncio.get_running_loop().call_later(ANNOUNCE_WINDOW_S, _close, window)
        await _publish(window)


async def _publish(window: tuple[Redis, str, str]) -> None:
    redis, channel, collection_id = window
    try:
        await redis.publish(channel, collection_id)
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("change feed readers not woken; the keeper will", error=str(exc))


def _close(window: tuple[Redis, str, str]) -> None:
    if _windows.pop(window, False):
        task = asyncio.ensure_future(_announce_late(window))
        _late.add(task)
        task.add_done_callback(_late.discard)


async def _announce_late(window: tuple[Redis, str, str]) -> None:
    redis, channel, collection_id = window
    try:
        await _announce_on(redis, channel, [collection_id])
    except Exception:  # nobody awaits this: say so, and leave it to the keeper
        log.exception("change feed announcement failed", collection=collection_id)
