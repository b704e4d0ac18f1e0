"""Telling a dependency outage (PostgreSQL or Redis unreachable) from a bug or bad input.

An outage is retried by workers and answered 503 with Retry-After by the gateway; anything
else keeps its own meaning. Nothing here imports aiohttp.
"""

from __future__ import annotations

import errno
import itertools
from collections.abc import Iterator

import asyncpg
import redis.exceptions

# asyncpg reports a lost or refused connection in several ways; a query error is not one.
_POSTGRES_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionFailureError,
)
_REDIS_OUTAGES: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.BusyLoadingError,
)


_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


def _is_socket_failure(exc: BaseException) -> bool:
    # redis-py wraps its socket errors, so a bare one comes from asyncpg connecting; asyncpg
    # joins the errors of several addresses into one OSError ("Multiple exceptions: ...").
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return isinstance(exc, OSError) and (
        exc.errno in _NETWORK_ERRNOS or str(exc).startswith("Multiple exceptions")
    )


def outage_of(exc: BaseException) -> str | None:
    """``"PostgreSQL"`` or ``"Redis"`` when ``exc`` means that dependency is unreachable."""
    if isinstance(exc, _REDIS_OUTAGES):
        return "Redis"
    if isinstance(exc, _POSTGRES_OUTAGES) or _is_socket_failure(exc):
        return "PostgreSQL"
    return None


def is_outage(exc: BaseException) -> bool:
    return outage_of(exc) is not None


def backoff_delays(first_s: float = 0.2, cap_s: float = 5.0) -> Iterator[float]:
    """Seconds to wait between retries: doubling from ``first_s`` to ``cap_s``, for ever."""
    delay = first_s
    for _ in itertools.count():
        yield delay
        delay = min(cap_s, delay * 2)
