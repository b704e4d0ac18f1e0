"""Limits on slow and greedy clients, each a setting (docs/operations.md, "Limits").

- A connection that has not sent a whole request head within ``idle_timeout_s`` is closed.
- A request body must arrive within ``body_timeout_s``: past it, 408 and the connection closes.
- A principal holds at most ``streams_per_principal`` change-feed streams per gateway process,
  and a stream whose client stops taking events for ``write_timeout_s`` ends.
- A principal makes at most ``requests_per_second_per_principal`` requests a second, counted
  across every gateway in Redis (:mod:`shared.tenancy.rate`).
- A request aiohttp cannot parse is logged as one info line, never an error with a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from gateway.keys import PRINCIPAL, REDIS, SETTINGS
from shared.errors import RequestTimeout, TooManyRequests
from shared.settings import Settings
from shared.tenancy.rate import RequestRate

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Long enough for another stream of the caller's to end, short enough to retry soon.
STREAM_RETRY_AFTER_S = 5


def server_options(settings: Settings) -> dict[str, Any]:
    """aiohttp's server arguments. aiohttp arms its keep-alive timer when a connection opens
    and after each answer, and closes the connection if no whole request head has arrived when
    it fires: so one timeout bounds silent, idle keep-alive and slow-header connections alike."""
    return {"keepalive_timeout": settings.idle_timeout_s}


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Fail a body read still waiting at the deadline: the handler's read raises
    :class:`RequestTimeout` (408) wherever it reads, JSON, bytes or multipart alike."""
    if not request.body_exists:
        return await handler(request)
    timeout = request.app[SETTINGS].body_timeout_s
    message = f"The request body did not arrive within {timeout:g} seconds"

    def expire() -> None:
        if not request.content.is_eof():
            request.content.set_exception(RequestTimeout(message))

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        return await handler(request)
    finally:
        timer.cancel()


class StreamSlots:
    """The change-feed streams each principal holds open in this gateway process."""

    def __init__(self, per_principal: int) -> None:
        self.per_principal = per_principal
        self._open: Counter[int] = Counter()

    def open_for(self, principal_id: int) -> int:
        return self._open[principal_id]

    @contextlib.contextmanager
    def hold(self, principal_id: int) -> Iterator[None]:
        if self._open[principal_id] >= self.per_principal:
            raise TooManyRequests(
                f"At most {self.per_principal} change-feed streams may be open at once per "
                "principal; close one first",
                retry_after_s=STREAM_RETRY_AFTER_S,
            )
        self._open[principal_id] += 1
        try:
            yield
        finally:
            self._open[principal_id] -= 1
            if not self._open[principal_id]:
                del self._open[principal_id]


STREAMS = web.AppKey("stream_slots", StreamSlots)
RATE = web.AppKey("request_rate", RequestRate)


async def request_rate_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[RATE] = RequestRate(
        app[REDIS], settings.queue_name, settings.requests_per_second_per_principal
    )
    yield


@web.middleware
async def throttle(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each authenticated request takes one of its principal's tokens (public routes none)."""
    principal = request.get(PRINCIPAL)
    if principal is not None:
        await request.app[RATE].take(principal.id)
    return await handler(request)


def unparsable_request_in_one_line(record: logging.LogRecord) -> bool:
    """A request aiohttp cannot parse is the client's error, answered with a 400: one info line
    naming it, not an ERROR with a traceback that any client could repeat to flood the logs."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, HttpProcessingError):
        record.levelno, record.levelname = logging.INFO, "INFO"
        first_line = (str(error.message).strip().splitlines() or [""])[0]
        record.msg, record.args = "unparsable request: %s", (first_line,)
        record.exc_info = record.exc_text = None
    return True


def setup(app: web.Application, settings: Settings) -> None:
    app[STREAMS] = StreamSlots(settings.streams_per_principal)
    logging.getLogger("aiohttp.server").addFilter(unparsable_request_in_one_line)


async def send(response: web.StreamResponse, data: bytes, timeout_s: float) -> None:
    """Write to a streaming answer; a client that takes none of it for ``timeout_s`` gets
    :class:`TimeoutError` (it would otherwise hold its stream, and the handler, forever)."""
    async with asyncio.timeout(timeout_s):
        await response.write(data)
