"""A live system for tests that speak real HTTP to real processes: the gateway on a real port
and a worker, started as ``brickyard`` commands against the suite's servers, in a schema and
queue of their own; seeded with a little data so calls reach past "not found"."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import requests

from shared.db import create_pool
from shared.settings import Settings
from tests.er_helpers import create_schema_collection, entity
from tests.faults import free_port
from tests.processes import command_env

PYTHON_CLI = [sys.executable, "-m", "shared.cli"]
SCOPES = ("view", "modify", "apollo_read", "apollo_write", "apollo_admin", "operator")


@dataclass(frozen=True, slots=True)
class Seeds:
    """What the live system holds, by the names tests use to reach it."""

    schema_collection: str = "Fuzz_1"
    er_collection: str = "fuzz_er"
    organization: str = "fuzz.org"
    organization_id: str = ""
    entity: str = "ahu-1"
    entity_type: str = "FUZZ_1__AHU"


@dataclass(frozen=True, slots=True)
class LiveSystem:
    base_url: str
    token: str
    seeds: Seeds


def cli(settings: Settings, *args: str) -> str:
    return subprocess.run(
        [*PYTHON_CLI, *args],
        env=command_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def launch(settings: Settings, command: str, logs: Path) -> subprocess.Popen[bytes]:
    # Logs go to files: a pipe nobody reads would fill up and stall the process.
    with (logs / f"{command}.log").open("wb") as log:
        return subprocess.Popen(
            [*PYTHON_CLI, command], env=command_env(settings), stdout=log, stderr=subprocess.STDOUT
        )


def wait_ready(base: str, gateway: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert gateway.poll() is None, "the gateway stopped"
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise AssertionError("the gateway did not become ready")


async def _seed_schema_collection(settings: Settings, seeds: Seeds) -> str:
    pool = await create_pool(settings)
    try:
        return await create_schema_collection(pool, seeds.schema_collection)
    finally:
        await pool.close()


def seed(settings: Settings, base: str, token: str) -> Seeds:
    seeds = Seeds()
    namespace = asyncio.run(_seed_schema_collection(settings, seeds))
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        answer = http.post(
            base + "/apollo/er/ercollections",
            json={
                "erCollectionId": seeds.er_collection,
                "schemaCollectionId": seeds.schema_collection,
            },
        )
        assert answer.status_code == 201, answer.text
        items = [entity(namespace, seeds.entity, "AHU"), entity(namespace, "fan-1", "Fan")]
        headers = {"ercollectionid": seeds.er_collection, "async": "false"}
        answer = http.post(base + "/apollo/er/entities", json=items, headers=headers)
        assert answer.status_code == 207, answer.text
        answer = http.post(
            base + "/repo/v1/schema/organization", json={"organizationName": seeds.organization}
        )
        assert answer.status_code == 201, answer.text
    return dataclasses.replace(seeds, organization_id=str(answer.json()["id"]))


async def _drop_schema(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE')
    finally:
        await conn.close()


@contextlib.contextmanager
def live_system(service_settings: Settings, logs: Path) -> Iterator[LiveSystem]:
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
    processes = [launch(live, command, logs) for command in ("gateway", "worker")]
    try:
        wait_ready(live.public_url, processes[0])
        yield LiveSystem(live.public_url, token, seed(live, live.public_url, token))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(_drop_schema(live))
