"""Start the real ``brickyard`` command as a child process, with a test's settings."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile

from shared.settings import Settings


def command_env(settings: Settings) -> dict[str, str]:
    # Unbuffered: a child the test SIGKILLs keeps its last log lines, which tell why it stalled.
    return {
        **os.environ, **settings.to_env(), "BRICKYARD_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
    }  # fmt: skip


def start(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    """The command as a child process; its log goes to a file named in the test's output.

    Not to a pipe: a pipe nobody reads fills up, and a busy worker then blocks on its logging.
    """
    fd, log_path = tempfile.mkstemp(prefix=f"brickyard-{args[0]}-", suffix=".log")
    print(f"brickyard {' '.join(args)} logs to {log_path}")
    with os.fdopen(fd, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "shared.cli", *args],
            env=command_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def run_cli(
    settings: Settings, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run one ``brickyard`` command to its end, off the event loop."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shared.cli", *args],
        env=command_env(settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


async def wait_for(predicate, timeout_s: float = 15.0, step_s: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(step_s)
