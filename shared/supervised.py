"""Keeping one thing running: the restart policy that ``brickyard run`` applies to everything.

A :class:`Unit` is anything that can be started, checked and stopped: a gateway or worker
process (:class:`ChildProcess`), the embedded PostgreSQL or Valkey. :class:`Supervised` watches
one unit from a thread of its own and starts it again, after an exponential backoff, whenever it
is found dead, logging one line per restart.
"""

from __future__ import annotations

import contextvars
import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil
import structlog

log = structlog.get_logger("brickyard.supervisor")


class Unit(Protocol):
    name: str

    def start(self) -> None:
        """Start, or start again after a death; raise when that fails."""

    def running(self) -> bool: ...

    def exit_code(self) -> int | None:
        """How the last run ended, when known (a daemon that is not our child cannot say)."""

    def pid(self) -> int | None: ...

    def terminate(self) -> None:
        """Ask it to stop, without waiting."""

    def stop(self, deadline: float) -> None:
        """Stopped by ``deadline`` (``time.monotonic``), forcibly if need be. Idempotent."""


@dataclass(frozen=True, slots=True)
class Backoff:
    first_s: float = 0.5
    cap_s: float = 30.0
    # An uptime this long forgives the earlier crashes: the next restart waits first_s again.
    stable_s: float = 30.0

    def delay(self, crashes: int) -> float:
        return min(self.cap_s, self.first_s * 2.0 ** min(crashes, 32))


class Supervised:
    """One unit, restarted with backoff from a watcher thread until :meth:`halt`."""

    def __init__(self, unit: Unit, backoff: Backoff | None = None, poll_s: float = 0.1) -> None:
        self.unit = unit
        self.backoff = backoff or Backoff()
        self.poll_s = poll_s
        self.crashes = 0
        self.up_since = time.monotonic()
        # A plain flag, not an Event: halt() runs in signal handlers, where taking a lock that the
        # interrupted main thread holds would deadlock. ``wake`` only cuts the watcher's sleeps short.
        self.halted = False
        self.wake = threading.Event()
        # Held while the unit (re)starts, so that stop() never races a start half done.
        self.lock = threading.Lock()
        # Threads start with empty context variables; the log lines need the process's own.
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(self._watch,), name=f"watch-{unit.name}", daemon=True
        )

    def start(self) -> None:
        self.unit.start()
        self.watch()

    def watch(self) -> None:
        """Watch a unit that is already running."""
        self.up_since = time.monotonic()
        self.thread.start()

    def _next_delay(self, *, died: bool) -> float:
        if died and time.monotonic() - self.up_since >= self.backoff.stable_s:
            self.crashes = 0
        delay = self.backoff.delay(self.crashes)
        self.crashes += 1
        return delay

    def _sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; whether the unit was halted meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.halted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.wake.wait(min(self.poll_s, remaining))
        return True

    def _watch(self) -> None:
        while not self._sleep(self.poll_s):
            if self.unit.running():
                continue
            delay = self._next_delay(died=True)
            log.warning(
                "process exited; restarting",
                name=self.unit.name,
                pid=self.unit.pid(),
                exit_code=self.unit.exit_code(),
                delay_s=delay,
            )
            self._restart_after(delay)

    def _restart_after(self, delay: float) -> None:
        while not self._sleep(delay):
            with self.lock:
                if self.halted:
                    return
                try:
                    self.unit.start()
                except Exception as error:
                    delay = self._next_delay(died=False)
                    log.error(
                        "restart failed; retrying",
                        name=self.unit.name,
                        error=str(error) or type(error).__name__,
                        delay_s=delay,
                    )
                    continue
            self.up_since = time.monotonic()
            log.debug("process restarted", name=self.unit.name, pid=self.unit.pid())
            return

    def halt(self) -> None:
        """No more restarts; the unit itself keeps running until :meth:`stop`. Safe in a signal
        handler: it only sets a flag."""
        self.halted = True

    def stop(self, deadline: float) -> None:
        self.halt()
        self.wake.set()
        # A restart under way finishes first (or the deadline passes); stop() copes with either.
        acquired = self.lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
        try:
            self.unit.stop(deadline)
        finally:
            if acquired:
                self.lock.release()
        self.thread.join(timeout=max(0.0, deadline - time.monotonic()))


_PR_SET_PDEATHSIG = 1
# Looked up here, not in the forked child: the child of a threaded process must not take the
# dynamic loader's locks.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies, even by SIGKILL, so a killed
    ``brickyard run`` leaves no gateway or worker behind (they would hold their port and keep
    taking jobs that nothing supervises). Linux only; elsewhere a no-op."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """A ``brickyard`` subcommand run as our child: a gateway or a worker."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.process: subprocess.Popen[bytes] | None = None
        self.terminated = False

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, preexec_fn=_die_with_parent)
        self.terminated = False

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def terminate(self) -> None:
        # One SIGTERM only: a second one makes some servers skip their graceful shutdown.
        if self.process is not None and self.running() and not self.terminated:
            self.terminated = True
            self.process.send_signal(signal.SIGTERM)

    def stop(self, deadline: float) -> None:
        if self.process is None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("process did not stop in time; killing it", name=self.name)
            self.process.kill()
            self.process.wait()


def gone(process: psutil.Process) -> bool:
    """Dead, or a zombie that nobody has reaped yet (a daemon's parent may never reap it)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(processes: Iterable[psutil.Process], deadline: float) -> bool:
    pending = list(processes)
    while pending:
        pending = [process for process in pending if not gone(process)]
        if pending and time.monotonic() >= deadline:
            return False
        if pending:
            time.sleep(0.05)
    return True


def leftovers(directory: Path, name: str) -> list[psutil.Process]:
    """Processes called ``name`` working in ``directory``: what a killed server left behind
    (PostgreSQL backends, a Valkey rewrite child) that would stop a new one from starting."""
    directory = directory.resolve()
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if process.info["name"] == name and Path(process.cwd()) == directory:
                found.append(process)
        except (psutil.Error, OSError):
            continue
    return found


def kill_all(processes: Iterable[psutil.Process], deadline: float) -> bool:
    processes = list(processes)
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return wait_gone(processes, deadline)
