"""procrastinate (PostgreSQL) beside Brickyard: ``python procrastinate_driver.py bench --pg URL ...``.

Configured as procrastinate's docs have it: a ``PsycopgConnector`` app, async no-op task, the
worker with LISTEN/NOTIFY and concurrency 10 (the docs' advice for async tasks; the default is
1), jobs submitted with ``batch_defer_async``. procrastinate stores no results, so a round trip
waits for the job's status to be ``succeeded``, read every 2 ms. Its tables live in a schema of
their own (the connection's search_path), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import psycopg
from peer_common import Peer, main
from procrastinate import App, PsycopgConnector
from psycopg.conninfo import make_conninfo

CONCURRENCY = 10
STATUS_POLL_S = 0.002


def make_app(args: argparse.Namespace) -> tuple[App, str]:
    schema = args.name.replace("-", "_")
    conninfo = make_conninfo(args.pg, options=f"-c search_path={schema}")
    app = App(connector=PsycopgConnector(conninfo=conninfo))

    @app.task(name="noop", queue=schema)
    async def noop() -> None:
        return None

    return app, schema


def make_peer() -> Peer:
    state: dict[str, Any] = {}

    async def setup(args: argparse.Namespace) -> None:
        app, schema = make_app(args)
        state["conn"] = await psycopg.AsyncConnection.connect(args.pg, autocommit=True)
        await state["conn"].execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await state["conn"].execute(f'CREATE SCHEMA "{schema}"')
        state["app"], state["schema"] = app, schema
        await app.open_async()
        await app.schema_manager.apply_schema_async()

    async def teardown() -> None:
        await state["app"].close_async()
        await state["conn"].execute(f'DROP SCHEMA IF EXISTS "{state["schema"]}" CASCADE')
        await state["conn"].close()

    async def submit_all(count: int) -> None:
        await state["app"].tasks["noop"].batch_defer_async(*({} for _ in range(count)))

    async def done() -> int:
        cursor = await state["conn"].execute(
            f'SELECT count(*) FROM "{state["schema"]}".procrastinate_jobs'
            " WHERE status = 'succeeded'"
        )
        row = await cursor.fetchone()
        return int(row[0])

    async def reset() -> None:
        await state["conn"].execute(
            f'TRUNCATE "{state["schema"]}".procrastinate_jobs RESTART IDENTITY CASCADE'
        )

    async def trip() -> Any:
        app = state["app"]
        job_id = await app.tasks["noop"].defer_async()
        while True:
            status = await app.job_manager.get_job_status_async(job_id)
            if status.value in ("succeeded", "failed"):
                return status
            await asyncio.sleep(STATUS_POLL_S)

    async def worker(args: argparse.Namespace) -> None:
        app, schema = make_app(args)
        async with app.open_async():
            await app.run_worker_async(queues=[schema], concurrency=CONCURRENCY, wait=True)

    return Peer(
        setup,
        teardown,
        submit_all,
        done,
        reset,
        trip,
        worker,
        {"concurrency": CONCURRENCY, "status_poll_s": STATUS_POLL_S},
    )


if __name__ == "__main__":
    main(make_peer)
