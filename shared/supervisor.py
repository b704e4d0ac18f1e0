"""``brickyard run``: ``GATEWAY_PROCESSES`` gateways (one port) and ``WORKERS`` worker processes,
and the embedded servers, kept running.

Whatever dies is started again with exponential backoff (see :mod:`shared.supervised`): a worker
(a peer takes its running job over once the lease runs out), the gateway too (a supervisor that
gave up on its front door while restarting everything else would surprise operators), and the
embedded PostgreSQL or Valkey, on the same port and data dir so that the children reconnect by
themselves. SIGINT or SIGTERM stops everything within 10 s: the children first (SIGTERM, then
SIGKILL after CHILD_GRACE_S), then the embedded servers they were using.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import structlog

from shared.settings import Settings
from shared.supervised import ChildProcess, Supervised, Unit

log = structlog.get_logger("brickyard.supervisor")

CHILD_GRACE_S = 7.0
STOP_BUDGET_S = 9.5


def port_is_free(host: str, port: int) -> bool:
    """Whether the gateway could bind, checked first: a gateway that can never start would
    otherwise be restarted forever instead of telling the operator."""
    with socket.socket() as sock:
        # As the gateway will: a port left in TIME_WAIT by a previous run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def gateway_ready(settings: Settings) -> bool:
    """Whether the gateway's /readyz answers 200 (PostgreSQL, Redis and migrations ready)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    try:
        with urllib.request.urlopen(f"http://{host}:{settings.port}/readyz", timeout=1) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def first_steps(settings: Settings, *, embedded_database: bool) -> dict[str, Any]:
    """What a new operator needs once the system is up: the dashboard, and the command that
    mints the first token (every call but /healthz, /readyz and /metrics needs one)."""
    from shared.auth import SCOPES

    executable = Path(sys.executable).parent / "brickyard"
    here = Path.cwd()
    if not executable.exists():
        shown = "brickyard"
    elif executable.is_relative_to(here):
        shown = str(executable.relative_to(here))
    else:
        shown = str(executable)
    scopes = " ".join(f"--scope {scope}" for scope in sorted(SCOPES))
    steps: dict[str, Any] = {
        "dashboard": f"{settings.public_url}/dashboard/",
        "first_token": f"{shown} token create --principal admin {scopes}",
        "in_directory": str(here),
    }
    if not embedded_database:
        steps["with"] = "the same BRICKYARD_DATABASE_URL"
    return steps


class Supervisor:
    def __init__(
        self, settings: Settings, servers: Sequence[Unit] = (), *, embedded_database: bool = False
    ) -> None:
        self.settings = settings
        self.embedded_database = embedded_database
        env = {**os.environ, **settings.to_env()}

        def child(name: str, command: str) -> Supervised:
            argv = [sys.executable, "-m", "shared.cli", command]
            return Supervised(ChildProcess(name, argv, env))

        self.servers = [Supervised(server) for server in servers]
        gateways = settings.gateway_processes
        names = ["gateway"] if gateways == 1 else [f"gateway-{i + 1}" for i in range(gateways)]
        self.children = [child(name, "gateway") for name in names]
        self.children += [child(f"worker-{i + 1}", "worker") for i in range(settings.workers)]
        self.stopping = False
        self.stop_signal = 0

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        """The signal handler: flags only. It interrupts the main thread anywhere, so it must
        take no lock: a log line here waited for ever on the lock of the line the main thread
        was printing (seen in CI: SIGTERM right after "brickyard is up" was never acted on)."""
        self.stop_signal = self.stop_signal or signum
        self.stopping = True
        # At once, from the handler: a child that the same Ctrl-C stops is not to be restarted.
        for supervised in (*self.children, *self.servers):
            supervised.halt()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        try:
            for server in self.servers:
                server.watch()
            for supervised in self.children:
                supervised.start()
                log.info("process started", name=supervised.unit.name, pid=supervised.unit.pid())
            announced = False
            while not self.stopping:
                # Only once the gateway answers ready: operators and scripts wait for this line.
                if not announced and gateway_ready(self.settings):
                    log.info(
                        "brickyard is up",
                        url=self.settings.public_url,
                        workers=self.settings.workers,
                    )
                    steps = first_steps(self.settings, embedded_database=self.embedded_database)
                    log.info("open the dashboard and mint a token to start", **steps)
                    announced = True
                time.sleep(0.2)
            log.info("stopping", signal=signal.Signals(self.stop_signal).name)
        finally:
            self.stop()
        return 0

    def stop(self) -> None:
        began = time.monotonic()
        for supervised in (*self.children, *self.servers):
            supervised.halt()
        for supervised in self.children:
            supervised.unit.terminate()
        for supervised in self.children:
            supervised.stop(began + CHILD_GRACE_S)
        # The servers last: the children shut down cleanly only while they can reach them.
        for supervised in self.servers:
            supervised.stop(began + STOP_BUDGET_S)
        log.info("all processes stopped", duration_s=round(time.monotonic() - began, 2))


def supervise(
    settings: Settings, servers: Sequence[Unit] = (), *, embedded_database: bool = False
) -> int:
    return Supervisor(settings, servers, embedded_database=embedded_database).run()
