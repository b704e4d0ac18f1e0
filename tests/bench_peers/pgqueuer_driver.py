"""pgqueuer (asyncpg) beside Brickyard: ``python pgqueuer_driver.py bench --pg URL ...``.

Configured as pgqueuer's docs have it: an ``AsyncpgDriver`` per process, ``QueueManager.run``
with batch_size 25, a bulk ``Queries.enqueue`` of lists, results awaited with its
``CompletionWatcher`` (LISTEN/NOTIFY, default 50 ms debounce). Its objects live in a schema and
channel of their own (PGQUEUER_SCHEMA / PGQUEUER_CHANNEL), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

BATCH_SIZE = 25


def configure(name: str) -> None:
    # pgqueuer reads its object names from the environment when first imported.
    os.environ["PGQUEUER_SCHEMA"] = name
    os.environ["PGQUEUER_CHANNEL"] = f"ch_{name}"


if "--name" in sys.argv:
    configure(sys.argv[sys.argv.index("--name") + 1].replace("-", "_"))

import asyncpg  # noqa: E402
from peer_common import Peer, main  # noqa: E402
from pgqueuer import AsyncpgDriver, Queries, QueueManager  # noqa: E402
from pgqueuer.core.completion import CompletionWatcher  # noqa: E402
from pgqueuer.models import Job  # noqa: E402


def make_peer() -> Peer:
    state: dict[str, Any] = {}

    async def setup(args: argparse.Namespace) -> None:
        state["schema"] = args.name.replace("-", "_")
        state["conn"] = await asyncpg.connect(args.pg)
        await state["conn"].execute(f'DROP SCHEMA IF EXISTS "{state["schema"]}" CASCADE')
        state["queries"] = Queries(AsyncpgDriver(state["conn"]))
        await state["queries"].install()
        state["watch_conn"] = await asyncpg.connect(args.pg)
        state["watcher"] = CompletionWatcher(
            AsyncpgDriver(state["watch_conn"]), queries=Queries(AsyncpgDriver(state["watch_conn"]))
        )
        await state["watcher"].__aenter__()

    async def teardown() -> None:
        await state["watcher"].__aexit__(None, None, None)
        await state["watch_conn"].close()
        await state["conn"].execute(f'DROP SCHEMA IF EXISTS "{state["schema"]}" CASCADE')
        await state["conn"].close()

    async def submit_all(count: int) -> None:
        state["submitted"] = count
        await state["queries"].enqueue(["noop"] * count, [None] * count, [0] * count)

    async def done() -> int:
        left = await state["conn"].fetchval(f'SELECT count(*) FROM "{state["schema"]}".pgqueuer')
        return int(state["submitted"] - left)

    async def reset() -> None:
        state["submitted"] = 0

    async def trip() -> Any:
        [job_id] = await state["queries"].enqueue("noop", None)
        return await state["watcher"].wait_for(job_id)

    async def worker(args: argparse.Namespace) -> None:
        conn = await asyncpg.connect(args.pg)
        qm = QueueManager(Queries(AsyncpgDriver(conn)))

        @qm.entrypoint("noop")
        async def noop(job: Job) -> None:
            return None

        await qm.run(batch_size=BATCH_SIZE)

    return Peer(setup, teardown, submit_all, done, reset, trip, worker, {"batch_size": BATCH_SIZE})


if __name__ == "__main__":
    main(make_peer)
