"""The first ten minutes with ``make run``'s defaults (issue 22): one ``brickyard run`` with its
own embedded servers and no URLs anywhere, and the commands a new operator types beside it.

- it says where the dashboard is and how to mint the first token;
- ``brickyard status`` and ``brickyard token`` find its servers from the data dir (the record
  in :mod:`shared.running`), with no operator token;
- from another directory (another data dir) ``token create`` refuses, naming the data dir it
  would have used, instead of starting a second PostgreSQL and minting a token the gateway
  refuses; with nothing running and no database there it refuses too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.acceptance.test_supervisor import Run, free_port
from tests.processes import wait_for


def brickyard(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def elsewhere(run: Run, data_dir: Path, **changes: str) -> dict[str, str]:
    """The run's environment, from a terminal whose data dir is another one."""
    return {**run.env(), "BRICKYARD_DATA_DIR": str(data_dir), **changes}


@pytest.fixture
async def first_run() -> AsyncIterator[Run]:
    # Not under tmp_path: see tests/acceptance/test_supervisor.py's fixture.
    directory = Path(tempfile.mkdtemp(prefix="brickyard-first-run-"))
    run = Run(directory)
    run.start()
    try:
        await wait_for(run.ready, timeout_s=45, step_s=0.1)
        await wait_for(lambda: asyncio.to_thread(lambda: bool(run.log_lines("brickyard is up"))))
        yield run
    finally:
        assert run.process is not None
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        for server in ("postgres", "valkey"):
            pid = run.server_pid(server)
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


async def admin_status(url: str, token: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/admin/status", headers={"Authorization": f"Bearer {token}"}) as answer,
    ):
        return answer.status


async def test_run_says_where_the_dashboard_is_and_how_to_mint_the_first_token(
    first_run: Run,
) -> None:
    [steps] = first_run.log_lines("open the dashboard and mint a token to start")
    assert steps["dashboard"] == f"{first_run.url}/dashboard/"
    command = steps["first_token"].split()
    assert command[1:4] == ["token", "create", "--principal"]
    assert "operator" in command and "apollo_admin" in command
    # The printed command works, as printed, in the directory it names.
    minted = await asyncio.to_thread(
        brickyard, first_run.env(), *command[1:], cwd=Path(steps["in_directory"])
    )
    assert minted.returncode == 0, minted.stderr
    assert await admin_status(first_run.url, minted.stdout.strip()) == 200


async def test_status_and_token_find_the_embedded_servers_from_the_data_dir(
    first_run: Run,
) -> None:
    assert (first_run.data_dir / "run.json").stat().st_mode & 0o077 == 0  # a login inside
    # No URLs, no token: the servers come from the data dir.
    status = await asyncio.to_thread(brickyard, first_run.env(), "status", "--json")
    assert status.returncode == 0, status.stderr
    assert len(json.loads(status.stdout)["workers"]) == 2
    token = await first_run.mint_token()
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{first_run.url}/async/get/{'0' * 32}", headers={"Authorization": f"Bearer {token}"}
        ) as answer,
    ):
        assert answer.status == 404  # the gateway knows the token: not 401


async def test_token_from_another_data_dir_refuses_naming_it(
    first_run: Run, tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere" / ".brickyard"
    minted = await asyncio.to_thread(
        brickyard, elsewhere(first_run, other), "token", "create", "--principal", "x",
        "--scope", "view",
    )  # fmt: skip
    assert minted.returncode == 1 and minted.stdout == ""
    assert f"a gateway answers at {first_run.url}" in minted.stderr
    assert str(other.resolve()) in minted.stderr and "BRICKYARD_DATA_DIR" in minted.stderr
    assert not other.exists()  # no second PostgreSQL was started there

    # Nothing answering either, and no database there: refused too.
    nothing = elsewhere(first_run, other, BRICKYARD_PORT=str(free_port()))
    minted = await asyncio.to_thread(
        brickyard, nothing, "token", "create", "--principal", "x", "--scope", "view"
    )
    assert minted.returncode == 1
    assert "holds no database" in minted.stderr and str(other.resolve()) in minted.stderr
    assert not other.exists()


async def test_status_elsewhere_refuses_naming_the_data_dir_or_asks_the_gateway(
    first_run: Run, tmp_path: Path
) -> None:
    other = tmp_path / ".brickyard"
    refused = await asyncio.to_thread(brickyard, elsewhere(first_run, other), "status")
    assert refused.returncode == 1
    assert str(other.resolve()) in refused.stderr and "--token" in refused.stderr
    minted = await asyncio.to_thread(
        brickyard, first_run.env(), "token", "create", "--principal", "ops", "--scope", "operator"
    )
    token = minted.stdout.strip()
    # One flag for the gateway's URL, --url, as import, export and retry; --gateway still works.
    for flag in ("--url", "--gateway"):
        asked = await asyncio.to_thread(
            brickyard, elsewhere(first_run, other), "status", "--json", flag, first_run.url,
            "--token", token,
        )  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        assert len(json.loads(asked.stdout)["workers"]) == 2
    # BRICKYARD_URL and BRICKYARD_TOKEN, as the client commands read them.
    env = elsewhere(first_run, other, BRICKYARD_URL=first_run.url, BRICKYARD_TOKEN=token)
    asked = await asyncio.to_thread(brickyard, env, "status")
    assert asked.returncode == 0, asked.stderr


async def test_the_record_goes_when_the_run_stops(first_run: Run) -> None:
    record = first_run.data_dir / "run.json"
    assert record.exists()
    await asyncio.to_thread(first_run.stop)
    assert not record.exists()
