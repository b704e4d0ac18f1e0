"""Run the ``brickyard`` client commands as child processes against a test's live gateway."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestClient

from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, create_schema_collection, register

BRICK_MODELS = Path(__file__).parent / "data" / "brick-models"


@dataclass
class Cli:
    url: str
    token: str
    data_dir: Path  # the client's BRICKYARD_DATA_DIR: where default import journals go

    def env(self) -> dict[str, str]:
        # The token travels in the environment, as a user would keep it out of shell history.
        return {
            **os.environ,
            "BRICKYARD_URL": self.url,
            "BRICKYARD_TOKEN": self.token,
            "BRICKYARD_DATA_DIR": str(self.data_dir),
        }

    def journals(self) -> list[Path]:
        return sorted((self.data_dir / "import-journals").glob("*"))

    async def start(self, *args: str, stdin: int | None = None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shared.cli", *args, stdin=stdin,
            env=self.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def run(
        self, *args: str, timeout_s: float = 180, stdin: bytes | None = None
    ) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of one command run to its end."""
        process = await self.start(
            *args, stdin=asyncio.subprocess.PIPE if stdin is not None else None
        )
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout_s)
        return process.returncode or 0, out.decode(), err.decode()


async def live_cli(client: TestClient, make_token: Any, data_dir: Path | None = None) -> Cli:
    token = await make_token("alice", *ALL_SCOPES)
    home = data_dir or Path(tempfile.mkdtemp(prefix="brickyard-cli-"))
    return Cli(str(client.make_url("")).rstrip("/"), token, home)


async def small_collection(client: TestClient, pool: Any, token: str, name: str = "site") -> str:
    """An ER collection bound to the hand-made schema collection; returns the type namespace."""
    namespace = await create_schema_collection(pool, "Brick_0_4")
    response = await register(client, token, name, "Brick_0_4")
    assert response.status == 201, await response.text()
    return namespace


def write_ndjson(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in items))
    return path


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


async def count_rows(pool: Any, table: str, collection: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {table} WHERE collection_id = $1", collection)


__all__ = ["BRICK_MODELS", "Cli", "bearer", "count_rows", "live_cli", "read_ndjson"]
