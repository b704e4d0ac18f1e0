"""The resources a process holds (pool, Redis) and the domain services built over them."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from arq import create_pool as create_arq_pool
from arq.connections import ArqRedis

from shared.auth import AuthService
from shared.jobs import JobService, JobWaiter
from shared.redis_url import redis_settings
from shared.settings import Settings


async def create_redis(settings: Settings) -> ArqRedis:
    if not settings.redis_url:
        raise RuntimeError("redis_url is not set; start the embedded services first")
    return await create_arq_pool(
        redis_settings(settings.redis_url), default_queue_name=settings.queue_name
    )


@dataclass(slots=True)
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: ArqRedis
    auth: AuthService
    jobs: JobService

    @classmethod
    def build(
        cls,
        settings: Settings,
        pool: asyncpg.Pool,
        redis: ArqRedis,
        waiter: JobWaiter | None = None,
    ) -> Services:
        return cls(
            settings=settings,
            pool=pool,
            redis=redis,
            auth=AuthService(pool),
            jobs=JobService(pool, redis, settings, waiter),
        )
