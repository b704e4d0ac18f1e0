"""The worker: its start-up (pool, services), its job kinds and its settings for arq."""

from __future__ import annotations

from typing import Any

from arq import func

from shared.db import create_pool
from shared.er.store.writes import sweep_ended_batches
from shared.redis_url import redis_settings
from shared.services import Services
from shared.settings import Settings
from worker.prompt import PromptWorker
from worker.tasks import ALL_KINDS


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    pool = await create_pool(settings)
    ctx["services"] = Services.build(settings, pool, ctx["redis"])


async def shutdown(ctx: dict[str, Any]) -> None:
    services: Services | None = ctx.get("services")
    if services is not None:
        await services.pool.close()


async def _runs_on_brickyard_workers(ctx: dict[str, Any], token: str) -> None:
    raise RuntimeError("Brickyard jobs run on 'brickyard worker', which claims them in batches")


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for :class:`PromptWorker`."""
    if not settings.redis_url:
        raise RuntimeError("redis_url is not set")
    return {
        # arq wants its functions listed; PromptWorker runs each kind through the job runner.
        "functions": [func(_runs_on_brickyard_workers, name=kind) for kind in ALL_KINDS],
        "job_kinds": ALL_KINDS,
        "redis_settings": redis_settings(settings.redis_url),
        "queue_name": settings.queue_name,
        "ctx": {"settings": settings},
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": settings.worker_max_jobs,
        "handle_signals": False,
        "lease_s": settings.job_lease_s,
        "reconcile_interval_s": settings.reconcile_interval_s,
        "sweepers": (sweep_ended_batches,),
    }


def make_worker(settings: Settings, **overrides: Any) -> PromptWorker:
    return PromptWorker(**{**worker_settings(settings), **overrides})
