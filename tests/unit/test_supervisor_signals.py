"""The supervisor's signal handler interrupts its main thread anywhere, so it must take no lock
the main thread may hold: CI once saw a SIGTERM land while "brickyard is up" was being printed,
and the handler's own log line waited for ever on that print's lock."""

from __future__ import annotations

import io
import signal
import threading

from shared.logging import configure_logging
from shared.settings import Settings
from shared.supervisor import Supervisor, log


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


def test_a_stop_signal_in_the_middle_of_a_log_line_neither_blocks_nor_restarts() -> None:
    settings = Settings(workers=1, log_format="json")
    supervisor = Supervisor(settings)
    stream = SignalMidWrite(supervisor)
    configure_logging(settings, process="supervisor", stream=stream)
    try:
        # The supervisor's own logger (first used here, so it prints to this stream).
        printing = threading.Thread(target=lambda: log.info("brickyard is up"), daemon=True)
        printing.start()
        printing.join(timeout=5)
        assert not printing.is_alive(), "the signal handler blocked on the log's lock"
        assert stream.interrupted
        assert supervisor.stopping and supervisor.stop_signal == signal.SIGTERM
        assert all(child.halted for child in supervisor.children)
        assert "brickyard is up" in stream.getvalue()
    finally:
        configure_logging(settings, process="test")
