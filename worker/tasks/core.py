from __future__ import annotations

from typing import Any

from shared.jobs.selftest import run_selftest
from worker.tasks.base import execute


async def selftest(ctx: dict[str, Any], token: str) -> None:
    await execute(ctx, token, run_selftest)


TASKS = [selftest]
