"""Progress on the terminal: a rich bar with items/s and ETA on a TTY, plain lines otherwise
(a log file or CI gets one line every few seconds, not a redrawn bar)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PLAIN_EVERY_S = 2.0


class ProgressView:
    """Told how many items have a final state; shows it."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._last_plain = time.monotonic()  # the first plain line after PLAIN_EVERY_S
        self._done = self._failed = 0
        self._rich: Progress | None = None
        if self._stream.isatty():
            self._rich = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]} items/s, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self._stream),
            )
            self._task = self._rich.add_task(label, total=total, rate="0", failed=0)
            self._rich.start()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self._started
        return self._done / elapsed if elapsed > 0 else 0.0

    def update(self, done: int, failed: int) -> None:
        self._done, self._failed = min(done, self.total), failed
        if self._rich is not None:
            self._rich.update(
                self._task, completed=self._done, rate=f"{self.rate:.0f}", failed=failed
            )
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY_S:
            self._plain()

    def _plain(self) -> None:
        self._last_plain = time.monotonic()
        left = self.total - self._done
        eta = f"{left / self.rate:.0f} s" if self.rate > 0 else "unknown"
        print(
            f"{self.label}: {self._done}/{self.total} items, {self._failed} failed, "
            f"{self.rate:.0f} items/s, ETA {eta}",
            file=self._stream,
            flush=True,
        )

    def close(self, finished: bool = True) -> None:
        """Stop drawing; the last plain line only when the import finished (a failure's own
        line is then the last thing said)."""
        if self._rich is not None:
            self._rich.stop()
        elif finished:
            self._plain()
