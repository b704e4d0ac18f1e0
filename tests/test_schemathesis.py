"""schemathesis against a live system: the real gateway on a real port, a real worker, real
PostgreSQL and Redis. No operation may answer with a server error.

Examples per operation are bounded (EXAMPLES, positive and negative each), and a handler served
under several paths is fuzzed under its first, so the run stays within a minute or two. A
synchronous call that waits for its job answers 504 when the wait runs out, by design (the
job goes on and the answer names its token): that 504 is the one 5xx allowed.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from shared.settings import Settings
from tests.faults import free_port
from tests.processes import command_env

EXAMPLES = 15
# gateway.openapi numbers the second and later paths of one handler: name_2, name_3...
ALIAS = re.compile(r"_\d+$")
SCOPES = ("view", "modify", "apollo_read", "apollo_write", "apollo_admin", "operator")


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the gateway stopped"
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the gateway did not become ready")


def cli(settings: Settings, *args: str) -> str:
    return subprocess.run(
        [*PYTHON_CLI, *args],
        env=command_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


PYTHON_CLI = [sys.executable, "-m", "shared.cli"]


def launch(settings: Settings, command: str, logs: Path) -> subprocess.Popen[bytes]:
    with (logs / f"{command}.log").open("wb") as log:
        return subprocess.Popen(
            [*PYTHON_CLI, command], env=command_env(settings), stdout=log, stderr=subprocess.STDOUT
        )


async def drop_schema(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def live_api(
    service_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.BaseSchema]:
    suffix = secrets.token_hex(6)
    live = service_settings.replace(
        database_schema=f"live_{suffix}",
        queue_name=f"brickyard-live:{suffix}",
        port=free_port(),
        sync_wait_timeout_s=2.0,
        job_lease_s=2.0,
        public_url_override=None,
    )
    cli(live, "migrate")
    token = cli(live, "token", "create", "--principal", "fuzzer", *[f"--scope={s}" for s in SCOPES])
    # Their logs go to files: a pipe nobody reads would fill up and stall them.
    logs = tmp_path_factory.mktemp("live-logs")
    processes = [launch(live, command, logs) for command in ("gateway", "worker")]
    try:
        base = live.public_url
        wait_ready(base, processes[0])
        config = schemathesis.Config.from_dict(
            {
                "base-url": base,
                "headers": {"Authorization": f"Bearer {token}"},
                "generation": {"max-examples": EXAMPLES},
            }
        )
        yield schemathesis.openapi.from_url(base + "/openapi.json", config=config)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(drop_schema(live))


def server_error(response: schemathesis.Response) -> str | None:
    if response.status_code < 500:
        return None
    if response.status_code == 504 and "did not finish within" in response.text:
        return None  # a synchronous call's wait ran out; its job goes on (see the docstring)
    return f"{response.status_code}: {response.text[:300]}"


def exercise(
    operation: schemathesis.APIOperation, mode: GenerationMode, session: requests.Session
) -> list[str]:
    """The server errors ``operation`` answered to ``EXAMPLES`` generated cases, if any."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first case is enough
    )
    def run(case: schemathesis.Case) -> None:
        if found:
            return
        error = server_error(case.call(session=session, timeout=30))
        if error is not None:
            found.append(
                f"{case.method} {case.formatted_path} ({mode.value}) -> {error}\n  {case.as_curl_command()}"
            )

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to negate: no parameters and no body
    return found


def test_no_route_answers_with_a_server_error(live_api: schemathesis.BaseSchema) -> None:
    failures: list[str] = []
    with requests.Session() as session:
        for result in live_api.get_all_operations():
            operation = result.ok()
            if ALIAS.search(operation.definition.raw["operationId"]):
                continue  # another path to a handler fuzzed under its first path
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += exercise(operation, mode, session)
    assert not failures, "\n".join(failures)
