"""The README's bulk-import block, run by bash as a new user would paste it (issue 22: it called a
`brickyard` that is not on the PATH, imported a file that did not exist and ended in a line that
was a shell syntax error). The Brick model's import and export lines are left out here: they need
the real Brick release (tests/integration/test_import_brick.py and test_export_brick.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.er_helpers import create_schema_collection, register
from tests.import_helpers import count_rows, live_cli, read_ndjson
from tests.readme_blocks import ROOT, commands, sections, shell_blocks

SECTION = "Bulk import, Brick models in and out, and the dashboard"


def readme_import_script(url: str) -> str:
    [block] = shell_blocks(sections()[SECTION])
    kept = [line for line in commands(block) if " brick " not in line]
    assert any(line.startswith(".venv/bin/brickyard retry") for line in kept)
    return "set -euo pipefail\n" + "\n".join(kept).replace("http://127.0.0.1:8080", url) + "\n"


async def test_the_readme_import_block_runs_as_written(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    # The README's collection, bound to a small hand-made Brick_1_4 (AHU and Fan, no Air_Handler).
    await create_schema_collection(services.pool, "Brick_1_4")
    assert (await register(client, cli.token, "august_14_81", "Brick_1_4")).status == 201
    # A clone as the README assumes: the sample where it says, the venv's command in .venv/bin.
    (tmp_path / "docs" / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "docs/examples/ahus.ndjson", tmp_path / "docs/examples/ahus.ndjson")
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", readme_import_script(cli.url)],
        cwd=tmp_path,
        env={**os.environ, "T": cli.token},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "entities: 5 items, 4 stored, 1 failed" in done.stdout
    [failed] = read_ndjson(tmp_path / "failed.ndjson")
    assert failed["id"] == "ahu-9" and "Air_Handler" in failed["reason"]
    assert "resubmitted 1 failed items as transaction" in done.stdout
    assert await count_rows(services.pool, "er_entities", "august_14_81") == 4
