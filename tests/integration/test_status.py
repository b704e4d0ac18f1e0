"""Worker heartbeats, GET /admin/status and ``brickyard status``."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys

from aiohttp.test_utils import TestClient

from shared.observability.heartbeats import live_workers
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.processes import command_env, run_cli, wait_for


async def test_the_status_route_needs_the_operator_scope(
    client: TestClient, make_token: TokenFactory
) -> None:
    assert (await client.get("/admin/status")).status == 401
    reader = await make_token("alice", "view", "apollo_admin")
    assert (await client.get("/admin/status", headers=bearer(reader))).status == 403
    operator = await make_token("ops", "operator")
    response = await client.get("/admin/status", headers=bearer(operator))
    assert response.status == 200
    body = await response.json()
    assert body["queue"]["depth"] == 0
    assert body["jobs"]["byState"] == {"PROCESSING": 0, "COMPLETE": 0, "FAILED": 0, "CANCELLED": 0}
    assert body["workers"] == []
    assert body["unavailable"] == {}


async def test_a_live_worker_beats_with_its_id_host_pid_and_running_jobs(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    queue = services.settings.queue_name

    async def one_live() -> bool:
        return len(await live_workers(services.redis, queue)) == 1

    await wait_for(one_live)
    user, operator = await make_token("alice", "view"), await make_token("ops", "operator")
    response = await client.post(
        "/selftest/async/start", json={"sleepSeconds": 3}, headers=bearer(user)
    )
    assert response.status == 201

    async def running_one() -> bool:
        return (await live_workers(services.redis, queue))[0].running == 1

    await wait_for(running_one)
    body = await (await client.get("/admin/status", headers=bearer(operator))).json()
    [worker] = body["workers"]
    assert worker["host"] == socket.gethostname()
    assert worker["pid"] == os.getpid()
    assert worker["runningJobs"] == 1
    assert worker["maxJobs"] == services.settings.worker_max_jobs
    assert worker["lastBeatAgeSeconds"] < 5
    assert worker["rssBytes"] > 10_000_000 and worker["uptimeSeconds"] >= 0
    assert [job["kind"] for job in worker["jobs"]] == ["selftest"]
    assert body["queue"] == {
        "name": queue, "depth": 0, "queued": 1, "running": 1,
        "oldestWaitingSeconds": 0.0, "oldestWaitingSecondsByKind": {},
    }  # fmt: skip
    assert body["jobs"]["byKind"] == {"selftest": {"PROCESSING": 1}}


async def test_brickyard_status_prints_queue_jobs_and_workers(
    settings: Settings, client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", "view")
    for _ in range(2):
        await client.post("/selftest/async/start?wait=true", json={}, headers=bearer(token))
    done = await run_cli(settings, "status")
    lines = done.stdout.splitlines()
    assert lines[0] == f"queue {settings.queue_name}: 0 waiting, 0 running, oldest waiting 0.0 s"
    assert lines[1] == "jobs: PROCESSING 0, COMPLETE 2, FAILED 0, CANCELLED 0"
    assert lines[2] == "  selftest: COMPLETE 2"
    assert lines[3] == "1 worker"
    assert f"host {socket.gethostname()} pid {os.getpid()}" in lines[4]
    as_json = json.loads((await run_cli(settings, "status", "--json")).stdout)
    assert as_json["jobs"]["byState"]["COMPLETE"] == 2


async def test_brickyard_status_asks_the_gateway_when_the_server_urls_are_unset(
    settings: Settings, client: TestClient, make_token: TokenFactory
) -> None:
    operator = await make_token("ops", "operator")
    env = {
        name: value
        for name, value in command_env(settings).items()
        if name not in ("BRICKYARD_DATABASE_URL", "BRICKYARD_REDIS_URL")
    }
    gateway = str(client.make_url("")).rstrip("/")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shared.cli", "status", "--gateway", gateway, "--token", operator],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first = f"queue {settings.queue_name}: 0 waiting, 0 running, oldest waiting 0.0 s"
    assert done.stdout.splitlines()[0] == first
    refused = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shared.cli", "status", "--gateway", gateway, "--token", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "answered 401" in refused.stderr
