"""The gateway's app factory: one cleanup context per resource, routes from each API family."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web, web_response

from gateway import dashboard, limits
from gateway.keys import POOL, REDIS, SERVICES, SETTINGS, WAITER
from gateway.metrics import metrics_ctx
from gateway.middleware import MIDDLEWARES
from gateway.routes import ALL_ROUTES, ROUTE_CONTEXTS, operations
from shared.db import create_pool
from shared.jobs import JobWaiter
from shared.migrations import apply_migrations
from shared.services import Services, create_redis
from shared.settings import Settings


async def postgres_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pool = await create_pool(settings)
    async with pool.acquire() as conn:
        await apply_migrations(conn, settings.database_schema)
    app[POOL] = pool
    yield
    await pool.close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    redis = await create_redis(app[SETTINGS])
    app[REDIS] = redis
    yield
    await redis.aclose()


async def waiter_ctx(app: web.Application) -> AsyncIterator[None]:
    waiter = JobWaiter(app[REDIS], app[SETTINGS].queue_name)
    await waiter.start()
    app[WAITER] = waiter
    yield
    await waiter.stop()


async def services_ctx(app: web.Application) -> AsyncIterator[None]:
    app[SERVICES] = Services.build(app[SETTINGS], app[POOL], app[REDIS], app[WAITER])
    yield


# Every answer, pages and API alike: script, style and calls from this origin only (no inline
# script, so stored data inserted into a page cannot run), never framed, never sniffed, no
# Referer leaking a tracker URL, and no Server header naming Python or aiohttp versions.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Server": "brickyard",
}


# A request aiohttp cannot parse gets its 400 before any app code runs, with the Server header
# aiohttp's responses default to (naming Python's and aiohttp's versions): this is that default.
web_response.SERVER_SOFTWARE = SECURITY_HEADERS["Server"]  # type: ignore[attr-defined]


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=settings.max_body_bytes)
    dashboard.setup(app)  # its templates, and tracker URLs as pages for browsers
    app[SETTINGS] = settings
    limits.setup(app, settings)
    app.on_response_prepare.append(security_headers)
    app.cleanup_ctx.extend([postgres_ctx, redis_ctx, waiter_ctx, services_ctx, metrics_ctx])
    app.cleanup_ctx.append(limits.request_rate_ctx)
    app.cleanup_ctx.extend(ROUTE_CONTEXTS)
    for routes in (*ALL_ROUTES, operations.routes):
        app.add_routes(routes)
    return app
