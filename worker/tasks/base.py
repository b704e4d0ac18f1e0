from __future__ import annotations

from typing import Any

from shared.jobs import run_job
from shared.jobs.runner import FailureHook, Handler
from shared.services import Services


async def execute(
    ctx: dict[str, Any], token: str, handler: Handler, on_failure: FailureHook | None = None
) -> None:
    services: Services = ctx["services"]
    await run_job(services.pool, services.redis, services.settings, token, handler, on_failure)
