"""Log lines operators rely on: one per job outcome, arq's own lines as JSON with the job's
token, and "is up" only once the gateway is ready."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Awaitable, Callable

import structlog
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from gateway.keys import SERVICES
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, two_collections, upsert_ok
from tests.faults import free_port
from tests.processes import command_env

OUTCOME_EVENTS = {"job complete", "job ended"}


async def test_each_job_outcome_is_one_line(
    client: TestClient, make_token: TokenFactory, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    token = await make_token("alice", "view")
    bodies = [{}, {"fail": "no"}, {"sleepSeconds": 5}]
    tokens = []
    for body in bodies:
        response = await client.post("/selftest/async/start", json=body, headers=bearer(token))
        tokens.append((await response.json())["token"])
    await client.post(f"/async/cancel/{tokens[2]}", headers=bearer(token))
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await run_jobs()
    outcomes = [line for line in lines if line["event"] in OUTCOME_EVENTS]
    assert sorted(line["job_token"] for line in outcomes) == sorted(tokens)
    by_token = {line["job_token"]: line for line in outcomes}
    assert by_token[tokens[0]]["event"] == "job complete"
    assert by_token[tokens[1]] | {"status": 400, "state": "FAILED"} == by_token[tokens[1]]
    assert by_token[tokens[2]]["state"] == "CANCELLED"
    assert all(line["job_kind"] == "selftest" for line in outcomes)


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


async def test_a_job_run_in_the_gateway_has_its_one_outcome_line_too(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    namespace = await two_collections(client, client.app[SERVICES].pool, token)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await upsert_ok(client, token, "entities", "august_14_81", [entity(namespace, "a", "AHU")])
    [outcome] = [line for line in lines if line["event"] in OUTCOME_EVENTS]
    assert outcome["event"] == "job complete"
    assert outcome["job_kind"] == "er_upsert_entities"
    assert len(outcome["job_token"]) == 32
