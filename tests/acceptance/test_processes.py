"""The real processes: a worker killed mid-job, the supervisor's shutdown, the token command."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Awaitable, Callable

import aiohttp
import psutil
import pytest

from shared.auth.service import hash_token
from shared.errors import Unauthorized
from shared.services import Services
from shared.settings import Settings
from tests.processes import run_cli, start, wait_for


async def attempts(services: Services, token: str) -> int:
    return await services.pool.fetchval("SELECT attempts FROM jobs WHERE token = $1", token)


async def test_job_of_a_killed_worker_runs_again_elsewhere(
    services: Services, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    principal = await services.auth.authenticate(
        await services.auth.create_token("alice", ["view"])
    )
    worker = start(services.settings, "worker")
    try:
        job = await services.jobs.submit(
            "selftest", principal, {"sleepSeconds": 5, "message": "survivor", "fail": None}
        )

        async def started() -> bool:
            return await attempts(services, job.token) == 1

        await wait_for(started)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
    row = await services.pool.fetchrow("SELECT state FROM jobs WHERE token = $1", job.token)
    assert row["state"] == "PROCESSING"

    # The dead worker's lease runs out (1 s in tests) and a live worker takes the job over.
    await asyncio.wait_for(run_jobs(), timeout=30)
    row = await services.pool.fetchrow(
        "SELECT state, attempts, result FROM jobs WHERE token = $1", job.token
    )
    assert row["state"] == "COMPLETE"
    assert row["attempts"] == 2
    assert row["result"] == {"echo": "survivor", "attempts": 2}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(process: psutil.Process, port: int) -> bool:
    return any(
        sock.status == psutil.CONN_LISTEN and sock.laddr.port == port
        for sock in process.net_connections(kind="tcp")
    )


@pytest.mark.parametrize("gateways", [1, 2])
async def test_run_serves_and_stops_cleanly_on_sigterm(settings: Settings, gateways: int) -> None:
    port = free_port()
    run = start(settings.replace(port=port, workers=2, gateway_processes=gateways), "run")
    try:
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_for(ready, timeout_s=30)
        children = psutil.Process(run.pid).children()
        assert len(children) == gateways + 2  # the gateways and two workers
        # Every gateway holds the port itself (SO_REUSEPORT when there are several); the first
        # one up answered /readyz, the others may still be starting.
        serving = [child for child in children if "gateway" in child.cmdline()]
        assert len(serving) == gateways

        async def all_listen() -> bool:
            return all(listens_on(child, port) for child in serving)

        await wait_for(all_listen, timeout_s=30)
        began = time.monotonic()
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=10)
        assert time.monotonic() - began < 10
        assert run.returncode == 0
        assert not [child for child in children if child.is_running()]
    finally:
        if run.poll() is None:
            run.kill()


async def test_token_command_prints_only_the_token(services: Services) -> None:
    created = await run_cli(
        services.settings,
        *("token", "create", "--principal", "dora", "--scope", "view", "--scope", "modify"),
        *("--expires-in", "600"),
    )
    token = created.stdout.strip()
    assert created.stdout == token + "\n"
    principal = await services.auth.authenticate(token)
    assert principal.name == "dora" and principal.scopes == {"view", "modify"}

    # The secret comes on stdin, never on the command line (ps, shell history).
    revoked = await run_cli(services.settings, "token", "revoke", stdin=token + "\n")
    assert revoked.stdout == ""
    with pytest.raises(Unauthorized):
        await services.auth.authenticate(token)


async def test_tokens_are_listed_and_revoked_by_id(services: Services) -> None:
    created = await run_cli(
        services.settings, "token", "create", "--principal", "erin", "--scope", "view"
    )
    token = created.stdout.strip()
    token_id = int(created.stderr.split("token id ", 1)[1].split()[0])
    listed = await run_cli(services.settings, "token", "list", "--principal", "erin")
    header, *rows = listed.stdout.strip().split("\n")
    assert header.split("\t")[:4] == ["id", "principal", "state", "fingerprint"]
    [row] = rows
    fields = row.split("\t")
    assert fields[:4] == [str(token_id), "erin", "live", hash_token(token)[:8]]
    assert token not in listed.stdout and hash_token(token) not in listed.stdout

    await run_cli(services.settings, "token", "revoke", "--id", str(token_id))
    with pytest.raises(Unauthorized):
        await services.auth.authenticate(token)
    live = await run_cli(services.settings, "token", "list", "--principal", "erin")
    assert live.stdout.strip().split("\n")[1:] == []
    every = await run_cli(services.settings, "token", "list", "--principal", "erin", "--all")
    assert every.stdout.strip().split("\n")[1].split("\t")[2] == "revoked"
