"""ER batch jobs: validate and write a staged batch of entities or relationships."""

from __future__ import annotations

from typing import Any

from shared.er.upsert import fail_unfinished_items, upsert_batch
from worker.tasks.base import execute


async def er_upsert_entities(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, upsert_batch, fail_unfinished_items)


async def er_upsert_relationships(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, upsert_batch, fail_unfinished_items)


TASKS = [er_upsert_entities, er_upsert_relationships]
