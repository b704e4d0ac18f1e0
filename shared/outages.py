"""Telling a dependency outage (PostgreSQL or Redis unreachable, or no PostgreSQL primary during a
failover) from a bug or bad input.

An outage is retried by workers and answered 503 with Retry-After by the gateway; anything
else keeps its own meaning. Nothing here imports aiohttp.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Iterator
from types import TracebackType

import asyncpg
import redis.exceptions

# Lost or refused connections and servers starting up, shutting down or full: all temporary.
# Not the rest of class 57 (query cancellation) nor a failed login (misconfiguration).
_POSTGRES_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError...
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    # A failover in progress: only standbys answer (none matches target_session_attrs, or a
    # connection reached one), or a write reached a server that was just demoted.
    asyncpg.exceptions.TargetServerAttributeNotMatched,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
)
_REDIS_OUTAGES: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,  # BusyLoadingError and MaxConnectionsError included
    redis.exceptions.TimeoutError,
)
_REDIS_MISCONFIGURED: tuple[type[BaseException], ...] = (
    redis.exceptions.AuthenticationError,
    redis.exceptions.AuthorizationError,
)
_CLIENTS = {"asyncpg": "PostgreSQL", "redis": "Redis", "arq": "Redis"}
# Frames that name no server, as the stdlib's: the event loop's (the processes run on uvloop,
# whose frames sit innermost under a client's refused connect).
_LOOP_PACKAGES = frozenset(sys.stdlib_module_names) | {"uvloop"}


class DependencyDown(Exception):
    """An error seen while a dependency was found unreachable: the outage's, not a bug's.

    A connection killed mid-operation can surface as an error that names no outage (asyncpg's
    "cannot switch to state ..."); a probe right after it tells which it was."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"{dependency} is unreachable")
        self.dependency = dependency


def outage_of(exc: BaseException) -> str | None:
    """``"PostgreSQL"`` or ``"Redis"`` when ``exc`` means that dependency is unreachable."""
    if isinstance(exc, DependencyDown):
        return exc.dependency
    if isinstance(exc, _REDIS_OUTAGES) and not isinstance(exc, _REDIS_MISCONFIGURED):
        return "Redis"
    if isinstance(exc, _POSTGRES_OUTAGES):
        return "PostgreSQL"
    # asyncpg's words for a connection it knows is gone. Its other InterfaceErrors ("another
    # operation is in progress", "pool is closed") are bugs, which retrying would loop on.
    if isinstance(exc, asyncpg.InterfaceError) and str(exc).endswith("connection is closed"):
        return "PostgreSQL"
    if isinstance(exc, OSError):  # ConnectionRefusedError, a connect's TimeoutError...
        # A bare socket error or timeout names no server, and our own code raises them too (a
        # missing file, a deadline): the client library that raised it, if any, decides.
        return _raised_in(exc.__traceback__)
    return None


def _raised_in(tb: TracebackType | None) -> str | None:
    """The server whose client library owns the innermost frame outside the stdlib and the
    event loop, if any.

    Innermost, so an OSError our own code raises in a callback asyncpg calls is still ours."""
    owner: str | None = None
    while tb is not None:
        package = str(tb.tb_frame.f_globals.get("__name__", "")).partition(".")[0]
        if package not in _LOOP_PACKAGES:
            owner = _CLIENTS.get(package)
        tb = tb.tb_next
    return owner


def is_outage(exc: BaseException) -> bool:
    return outage_of(exc) is not None


def backoff_delays(first_s: float = 0.2, cap_s: float = 5.0) -> Iterator[float]:
    """Seconds to wait between retries: doubling from ``first_s`` to ``cap_s``, for ever."""
    delay = first_s
    for _ in itertools.count():
        yield delay
        delay = min(cap_s, delay * 2)


PROBE_TIMEOUT_S = 2.0


async def confirmed_outage(exc: BaseException, pool: asyncpg.Pool) -> str | None:
    """``outage_of(exc)``, or "PostgreSQL" when asyncpg's client-state error ("cannot switch to
    state ...", left by a connection killed mid-operation, as in a failover) comes with a
    PostgreSQL that a probe right now finds unreachable. Otherwise it stays a bug."""
    dependency = outage_of(exc)
    if dependency is not None or not isinstance(exc, asyncpg.InternalClientError):
        return dependency
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await pool.fetchval("SELECT 1")
    except Exception as probe_error:
        if is_outage(probe_error) or isinstance(probe_error, TimeoutError):
            return "PostgreSQL"
    return None
