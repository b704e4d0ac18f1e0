"""A typed client generated from /openapi.json by openapi-python-client (a test extra) talks to a
real started gateway: typed request models in, typed response models (errors included) out."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from shared.settings import Settings
from tests.conftest import TokenFactory, started_gateway

PACKAGE = "brickyard_client"


@pytest.fixture
def import_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def generate(document: dict[str, object], into: Path) -> str:
    """The generator's output, after writing the client package ``into`` (it runs ruff, from
    the same environment, over the code it writes)."""
    spec = into / "openapi.json"
    spec.write_text(json.dumps(document))
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec)]
    done = subprocess.run(
        [*command, "--meta", "none", "--output-path", str(into / PACKAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_calls_the_gateway_with_typed_models(
    settings: Settings,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
    import_path: Path,
) -> None:
    server: TestServer = await started_gateway(settings)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.make_url("/openapi.json")) as response:
                document = await response.json()
        output = generate(document, import_path)
        # Only the SPARQL query-text body (application/sparql-query) is beyond the generator.
        assert output.count("WARNING parsing") <= 1, output

        client_module = module("client")
        models = module("models")
        token = await make_token("alice", "view", "modify")
        base_url = str(server.make_url("")).rstrip("/")
        client = client_module.AuthenticatedClient(base_url=base_url, token=token)

        start = module("api.jobs.core_start_selftest")
        answer = await start.asyncio_detailed(
            client=client, body=models.SelftestRequest(message="typed", sleep_seconds=0)
        )
        assert answer.status_code == 201
        assert isinstance(answer.parsed, models.JobToken)
        await run_jobs()
        get_job = module("api.jobs.core_get_job")
        done = await get_job.asyncio_detailed(answer.parsed.token, client=client)
        assert done.status_code == 200
        assert json.loads(done.content) == {"echo": "typed", "attempts": 1}

        create = module("api.synapse_schema_registry.synapse_create_organization")
        body = models.CreateOrganizationRequest(organization_name="typed.client")
        created = await create.asyncio_detailed(client=client, body=body)
        assert created.status_code == 201
        assert isinstance(created.parsed, models.Organization)
        assert created.parsed.name == "typed.client"
        again = await create.asyncio_detailed(client=client, body=body)
        assert again.status_code == 400  # Synapse's answer to a taken name
        assert isinstance(again.parsed, models.SynapseError)
        assert "typed.client" in again.parsed.reason
    finally:
        await server.close()
