"""The gateway's share of the metrics: request durations, flushed to Redis in the background.

The buffer lives on the application (each test's app counts into its own queue's hash), and
is flushed every ``FLUSH_INTERVAL_S`` and before each scrape, so a scrape of this gateway
always includes its own latest requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from gateway.keys import REDIS, SETTINGS
from shared.observability.metrics import MetricsBuffer, bind_metrics, metrics_key
from shared.outages import is_outage

log = structlog.get_logger(__name__)

METRICS = web.AppKey("metrics", MetricsBuffer)
FLUSH_INTERVAL_S = 2.0
UNMATCHED = "unmatched"  # requests no route matched: one label, not one per path tried


def bind_request(request: web.Request) -> None:
    """What the request's own code counts (a job run in the gateway) goes to this app's buffer."""
    bind_metrics(request.app.get(METRICS))


def observe_request(request: web.Request, status: int, seconds: float) -> None:
    buffer = request.app.get(METRICS)
    if buffer is None:
        return
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else UNMATCHED
    buffer.request_finished(request.method, route, status, seconds)


async def flush(app: web.Application) -> None:
    await app[METRICS].flush(app[REDIS], metrics_key(app[SETTINGS].queue_name))


async def _flush_forever(app: web.Application) -> None:
    while True:
        await asyncio.sleep(FLUSH_INTERVAL_S)
        try:
            await flush(app)
        except Exception as exc:
            if not is_outage(exc):
                log.exception("could not flush metrics")
            # Kept in the buffer for the next flush.


async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    app[METRICS] = MetricsBuffer()
    task = asyncio.create_task(_flush_forever(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await flush(app)
