"""Jobs of the Synapse-compatible schema registry; the work is in ``shared.registry``."""

from __future__ import annotations

from typing import Any

from shared.registry import run_create_schema, run_get_validation_schema
from worker.tasks.base import execute


async def create_json_schema(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, run_create_schema)


async def get_validation_schema(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, run_get_validation_schema)


TASKS = [create_json_schema, get_validation_schema]
