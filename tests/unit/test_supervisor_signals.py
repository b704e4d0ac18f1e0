"""The supervisor's signal handler interrupts its main thread anywhere, so it must take no lock
the main thread may hold: CI once saw a SIGTERM land while "brickyard is up" was being printed,
and the handler's own log line waited for ever on that print's lock."""

from __future__ import annotations

import io
import logging
import signal
import threading
from collections.abc import Iterator

import pytest
import structlog

from shared.logging import configure_logging
from shared.settings import Settings
from shared.supervisor import Supervisor


class SignalMidWrite(io.StringIO):
    """A log stream whose first write is interrupted by the stop signal, as the main thread's
    print would be."""

    def __init__(self, supervisor: Supervisor) -> None:
        super().__init__()
        self.supervisor = supervisor
        self.interrupted = False

    def write(self, text: str) -> int:
        if not self.interrupted:
            self.interrupted = True
            self.supervisor.request_stop(signal.SIGTERM, None)
        return super().write(text)


@pytest.fixture
def logging_as_found() -> Iterator[None]:
    """configure_logging sets process-wide state: structlog's configuration, the root logger's
    handlers and a ``process`` context variable bound outside any task. Left behind, a later test
    in the same process sees them (mutmut runs the whole unit tier twice in one process, and the
    job runner's test then found ``process`` among a job's context variables)."""
    config = structlog.get_config()
    context = structlog.contextvars.get_contextvars()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        structlog.configure(**config)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**context)
        root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("logging_as_found")
def test_a_stop_signal_in_the_middle_of_a_log_line_neither_blocks_nor_restarts() -> None:
    settings = Settings(workers=1, log_format="json")
    supervisor = Supervisor(settings)
    stream = SignalMidWrite(supervisor)
    configure_logging(settings, process="supervisor", stream=stream)
    # The supervisor's logger, first used here so it prints to this stream (the module's own
    # caches the configuration it first logged with, which may be an earlier test's).
    log = structlog.get_logger("brickyard.supervisor")
    printing = threading.Thread(target=lambda: log.info("brickyard is up"), daemon=True)
    printing.start()
    printing.join(timeout=5)
    assert not printing.is_alive(), "the signal handler blocked on the log's lock"
    assert stream.interrupted
    assert supervisor.stopping and supervisor.stop_signal == signal.SIGTERM
    assert all(child.halted for child in supervisor.children)
    assert "brickyard is up" in stream.getvalue()
