"""Log lines of processes: arq's own lines as JSON with the job's token, and "is up" only
once the gateway is ready."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request

from shared.settings import Settings
from tests.faults import free_port
from tests.processes import command_env

ARQ_LINE = """
import logging, sys
from shared.logging import configure_logging
from gateway.keys import SERVICES
from shared.settings import Settings
configure_logging(Settings(log_format="json"), process="worker")
logging.getLogger("arq.worker").info("%6.2fs → %s(%s)%s", 0.01, "{token}:selftest", "", "")
logging.getLogger("arq.worker").info("shutdown on SIGTERM ◆ 1 jobs complete")
"""


def test_arq_lines_are_json_with_the_job_token() -> None:
    token = "0123456789abcdef" * 2
    done = subprocess.run(
        [sys.executable, "-c", ARQ_LINE.replace("{token}", token)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    job_line, other = (json.loads(line) for line in done.stdout.splitlines())
    assert job_line["job_token"] == token
    assert job_line["job_kind"] == "selftest"
    assert job_line["logger"] == "arq.worker"
    assert job_line["process"] == "worker"
    assert "job_token" not in other
    assert other["event"].startswith("shutdown on SIGTERM")


def readyz(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
        return int(answer.status)


async def test_brickyard_run_says_it_is_up_only_once_the_gateway_is_ready(
    settings: Settings,
) -> None:
    port = free_port()
    run = settings.replace(port=port, workers=1)
    process = subprocess.Popen(  # noqa: ASYNC220 (started once; read off the loop below)
        [sys.executable, "-m", "shared.cli", "run"],
        env=command_env(run),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        events = []
        while "brickyard is up" not in events:
            raw = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60)  # type: ignore[union-attr]
            assert raw, f"brickyard run ended: {events}"
            line = json.loads(raw)
            events.append(line["event"])
        assert await asyncio.to_thread(readyz, port) == 200
        assert events.index("gateway is up") < events.index("brickyard is up")
    finally:
        process.send_signal(signal.SIGTERM)
        # Read what it still writes while it stops: a full pipe would block its shutdown.
        await asyncio.to_thread(process.communicate, timeout=30)
