"""Readiness: Postgres and Redis reachable, every migration applied."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.migrations import pending_migrations
from shared.services import Services


async def readiness(services: Services, timeout_s: float = 2.0) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        async with asyncio.timeout(timeout_s), services.pool.acquire() as conn:
            pending = await pending_migrations(conn)
        checks["postgres"] = {"ok": True}
        checks["migrations"] = {"ok": not pending, "pending": pending}
    except Exception as exc:
        checks["postgres"] = {"ok": False, "error": str(exc) or type(exc).__name__}
        checks["migrations"] = {"ok": False, "pending": None}
    try:
        async with asyncio.timeout(timeout_s):
            await services.redis.ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": str(exc) or type(exc).__name__}
    return checks
