"""The arq worker: its settings, its start-up (pool, services) and its task list."""

from __future__ import annotations

from typing import Any

from arq import func
from arq.connections import RedisSettings

from shared.db import create_pool
from shared.services import Services
from shared.settings import Settings
from worker.prompt import PromptWorker
from worker.tasks import ALL_TASKS


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    pool = await create_pool(settings)
    ctx["services"] = Services.build(settings, pool, ctx["redis"])


async def shutdown(ctx: dict[str, Any]) -> None:
    services: Services | None = ctx.get("services")
    if services is not None:
        await services.pool.close()


def task_functions(settings: Settings) -> list[Any]:
    # arq's own timeout is a backstop; the job runner enforces job_timeout_s and records it.
    return [func(task, timeout=settings.job_timeout_s + 30) for task in ALL_TASKS]


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for :class:`PromptWorker`: arq's ``WorkerSettings`` as a dict."""
    if not settings.redis_url:
        raise RuntimeError("redis_url is not set")
    return {
        "functions": task_functions(settings),
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": settings.queue_name,
        "ctx": {"settings": settings},
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": settings.worker_max_jobs,
        # One delivery more than the limit, so the job runner can record that it gave up.
        "max_tries": settings.job_max_tries + 1,
        "keep_result": 60,
        "handle_signals": False,
        "lease_s": settings.job_lease_s,
    }


def make_worker(settings: Settings, **overrides: Any) -> PromptWorker:
    return PromptWorker(**{**worker_settings(settings), **overrides})


class WorkerSettings:
    """For a plain ``arq worker.settings.WorkerSettings``; ``brickyard worker`` is the usual way
    in, with prompt pick-up and short leases (see ``worker.prompt``)."""

    _settings = Settings.from_env()
    functions = task_functions(_settings)
    queue_name = _settings.queue_name
    redis_settings = RedisSettings.from_dsn(_settings.redis_url or "redis://127.0.0.1:6379")
    ctx = {"settings": _settings}
    on_startup = startup
    on_shutdown = shutdown
