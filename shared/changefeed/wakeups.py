"""Waking feed readers without polling PostgreSQL.

Whatever commits a change to items announces its collections on Redis
(shared/changefeed/announce.py). Every gateway process holds one Redis subscription and wakes
its own readers (SSE streams) of that collection. One keeper in the cluster, whichever gateway
holds a session advisory lock, numbers pending events every second (migration 022) and, when it
numbered any, wakes every reader: a write nothing announced (a migration, psql, a writer that
found Redis down) is read within a second or two. The keeper also prunes the feed by retention.
A gateway that loses the lock's holder takes over within ``RETRY_S``; a new holder, or a
resubscribed reader, wakes everyone once. (Until migration 027 the trigger called
``pg_notify``, which made writers commit one at a time.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterator

import asyncpg
import structlog
from redis.asyncio import Redis

from shared.changefeed.announce import feed_channel
from shared.changefeed.store import catch_up, prune, try_keeper_lock
from shared.db import connect
from shared.jobs.channels import listen_forever
from shared.settings import Settings

log = structlog.get_logger(__name__)

EVERYONE = "*"
RETRY_S = 2.0
PRUNE_EVERY_S = 60.0


class FeedWaker:
    """One Redis subscription per process; each reader waits on an event of its own."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self._redis, self._channel = redis, feed_channel(queue_name)
        self._readers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(
            listen_forever(self._redis, self._channel, self._wake, lambda: self._wake(EVERYONE))
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _wake(self, collection_id: str) -> None:
        if collection_id == EVERYONE:
            targets = [e for events in self._readers.values() for e in events]
        else:
            targets = list(self._readers.get(collection_id, ()))
        for event in targets:
            event.set()

    @contextlib.contextmanager
    def watch(self, collection_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever ``collection_id``'s feed may have grown."""
        event = asyncio.Event()
        self._readers[collection_id].add(event)
        try:
            yield event
        finally:
            self._readers[collection_id].discard(event)
            if not self._readers[collection_id]:
                del self._readers[collection_id]


class FeedKeeper:
    """Numbering, the wake-up for changes nobody announced, and retention, by one process at a
    time."""

    def __init__(self, settings: Settings, redis: Redis, retention_s: float) -> None:
        self._settings, self._redis, self._retention_s = settings, redis, retention_s
        self._channel = feed_channel(settings.queue_name)
        self._sends: set[asyncio.Task[int]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _publish(self, collection_id: str) -> int:
        receivers: int = await self._redis.publish(self._channel, collection_id)
        return receivers

    def _send(self, collection_id: str) -> None:
        task = asyncio.create_task(self._publish(collection_id))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _run(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect(self._settings)
                if await try_keeper_lock(conn, self._settings.database_schema):
                    await self._keep(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an outage: try again, as every other loop does
                log.warning("change feed keeper lost; retrying", error=str(exc) or repr(exc))
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(RETRY_S)  # another process holds the lock, or it was lost

    async def _keep(self, conn: asyncpg.Connection) -> None:
        """Number, wake and prune until the connection (and so the lock) is lost."""
        self._send(EVERYONE)  # what was announced while no process held the lock
        loop = asyncio.get_running_loop()
        pruned_at = -PRUNE_EVERY_S
        while not conn.is_closed():
            if loop.time() - pruned_at >= PRUNE_EVERY_S:
                await prune(conn, self._retention_s)
                pruned_at = loop.time()
            # Readers number pending events themselves; this keeps the backlog short when
            # nobody reads, and wakes readers of changes that nobody announced.
            if await catch_up(conn):
                self._send(EVERYONE)
            await asyncio.sleep(1.0)
