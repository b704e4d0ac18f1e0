"""Real servers and processes that fault tests kill or cut off (a private Valkey, a TCP proxy,
worker processes) and the checks every fault test ends with: every job ended once, every item
has exactly one final state."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
from yarl import URL

from shared.settings import Settings
from shared.valkey_server import ExplicitValkeyServer
from tests.processes import start


class Proxy:
    """Forwards 127.0.0.1:<port> to a real server until it is shut, like a server going away."""

    def __init__(self, url: str) -> None:
        parsed = URL(url)
        socket_dir = parsed.query.get("host")
        if not parsed.host and socket_dir:
            # An embedded PostgreSQL listens on a Unix socket only; the proxy serves it on TCP.
            self._unix_path: str | None = f"{socket_dir}/.s.PGSQL.{parsed.port or 5432}"
            parsed = parsed.without_query_params("host")
        elif parsed.host is None or parsed.port is None:
            pytest.skip(f"needs a TCP server or Unix socket URL, not {url}")
        else:
            self._unix_path = None
        self._target = (parsed.host or "", parsed.port or 0)
        self._url = parsed
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.port = 0

    @property
    def url(self) -> str:
        return str(self._url.with_host("127.0.0.1").with_port(self.port))

    async def open(self) -> None:
        # The same port again after a shutdown, so the gateway's settings stay right.
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def shut(self) -> None:
        """New connections are refused and live ones are cut, as when a server dies."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._live):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    def freeze(self) -> None:
        """Hold every byte from now on: the server looks alive but never answers."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self._unix_path is not None:
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(
                    self._unix_path
                )
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer, upstream_writer}
        self._live |= pair
        try:
            await asyncio.gather(
                _pipe(reader, upstream_writer, self._flowing),
                _pipe(upstream_reader, writer, self._flowing),
            )
        finally:
            self._live -= pair


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, flowing: asyncio.Event
) -> None:
    try:
        while data := await reader.read(65536):
            await flowing.wait()
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # the other side was cut: that is the point
    finally:
        writer.transport.abort()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateValkey:
    """A Valkey of one test's own, without persistence: killed, it comes back empty."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.server: ExplicitValkeyServer | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "valkey.db").unlink(missing_ok=True)
        self.server = ExplicitValkeyServer(
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
