"""Apollo schema service jobs."""

from __future__ import annotations

from typing import Any

from shared.schemas.sync import run_sync
from worker.tasks.base import execute


async def apollo_schema_sync(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, run_sync)


TASKS = [apollo_schema_sync]
