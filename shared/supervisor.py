"""``brickyard run``: one gateway and ``WORKERS`` worker processes, supervised.

A worker that dies is restarted (its running job is taken over by a peer once its lease runs
out); if the gateway dies everything stops. SIGINT or SIGTERM stops every child within 10 s:
first SIGTERM, then SIGKILL for whatever is still alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

import structlog

from shared.settings import Settings

log = structlog.get_logger("brickyard.supervisor")

GRACE_S = 8.0


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = {**os.environ, **settings.to_env()}
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = False

    def spawn(self, name: str, command: str) -> None:
        self.children[name] = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", command], env=self.env
        )
        log.info("process started", name=name, pid=self.children[name].pid)

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("stopping", signal=signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGTERM, self.request_stop)
        self.spawn("gateway", "gateway")
        for index in range(self.settings.workers):
            self.spawn(f"worker-{index + 1}", "worker")
        log.info(
            "brickyard is up",
            url=self.settings.public_url,
            workers=self.settings.workers,
        )
        exit_code = 0
        while not self.stopping:
            time.sleep(0.2)
            for name, child in list(self.children.items()):
                if child.poll() is None or self.stopping:
                    continue
                log.error("process exited", name=name, returncode=child.returncode)
                if name == "gateway":
                    exit_code = 1
                    self.stopping = True
                else:
                    self.spawn(name, "worker")
        self.stop_children()
        return exit_code

    def stop_children(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("process did not stop in time; killing it", name=name)
                child.kill()
                child.wait()
        log.info("all processes stopped")


def supervise(settings: Settings) -> int:
    return Supervisor(settings).run()
