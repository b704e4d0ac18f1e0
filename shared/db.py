"""Postgres access: one asyncpg pool per process, JSON codecs, and the schema every table lives in.

The URL may list several hosts (libpq style, with ``target_session_attrs=read-write``): each new
connection tries them in turn (each within its own timeout), so after a failover new
connections reach the promoted standby. Connections to the old primary die with it, and one
to a server that takes no writes is refused at acquire."""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared.cpu_priority import match_backend_priority
from shared.outages import is_outage
from shared.settings import Settings
from shared.text import json_text, json_value

# What a store function runs its SQL on: the pool, or a connection inside a transaction.
Executor: TypeAlias = asyncpg.Pool | asyncpg.Connection

Row = TypeVar("Row")

# asyncpg waits 60 s by default: an unreachable server would hold each request (and /readyz)
# that long. 5 s is ample for a live server, even a loaded one.
CONNECT_TIMEOUT_S = 5.0


async def _init_connection(conn: asyncpg.Connection) -> None:
    match_backend_priority(conn)  # a niced worker's backend gives way with it
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json_text, decoder=json_value, schema="pg_catalog"
        )


def host_urls(url: str) -> list[str]:
    """One URL per host of a libpq multi-host URL (``h1:p1,h2:p2``), each with the same query."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return [url]  # as given: urlunsplit would drop the // of postgresql:///db
    return [urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}")) for host in hosts.split(",")]


async def _connect_host_by_host(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg's own multi-host connect spends one timeout on all the hosts: a primary lost
    without refusing (its node gone, the connection never answered) would use all of it, and the
    standby after it would never be tried. libpq's connect_timeout counts per host; so does this.
    Each URL keeps target_session_attrs, which asyncpg checks on its one host."""
    error: Exception | None = None
    for url in host_urls(dsn):
        try:
            connection: asyncpg.Connection = await asyncpg.connect(url, **kwargs)
            return connection
        except Exception as exc:
            if not (is_outage(exc) or isinstance(exc, TimeoutError)):
                raise  # a failed login or a bad option: the next host would not fix it
            error = exc
    assert error is not None
    raise error


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    if not settings.database_url:
        raise RuntimeError("database_url is not set; start the embedded services first")
    return {
        "dsn": settings.database_url,
        "timeout": CONNECT_TIMEOUT_S,
        "server_settings": {
            "search_path": settings.database_schema,
            "application_name": "brickyard",
        },
    }


# Asked only when the reported settings say so: an idle connection learns of a promotion (its
# ParameterStatus) only with its next query.
_TAKES_NO_WRITES = (
    "SELECT pg_is_in_recovery() OR current_setting('default_transaction_read_only')::bool"
)


async def _refuse_standby(conn: asyncpg.Connection) -> None:
    """Raise if ``conn``'s server takes no writes: a standby, or one set read-only.

    PostgreSQL 14+ reports both settings to the client, so a primary costs no round trip. Each
    pooled connection is checked at acquire: one to a server that takes no writes is closed and
    the caller sees an outage (503, or a worker's wait); the next acquire tries the URL's hosts
    again, so a standby is never used until a write fails, and a promoted one is."""
    reported = conn.get_settings()
    says_standby = "on" in (
        getattr(reported, "in_hot_standby", None),
        getattr(reported, "default_transaction_read_only", None),
    )
    if says_standby and await conn.fetchval(_TAKES_NO_WRITES):
        raise asyncpg.exceptions.TargetServerAttributeNotMatched(
            "the PostgreSQL server is a read-only standby; waiting for a primary"
        )


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Nothing to undo on release. asyncpg's default reset (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL) costs a round trip per release, three per synchronous batch; pooled connections
    here hold no session state (LISTEN and session advisory locks use connections of their own,
    settings are SET LOCAL), and the pool still rolls back a transaction left open."""


async def create_pool(settings: Settings, *, min_size: int = 1) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        **connect_kwargs(settings),
        min_size=min_size,
        max_size=max(settings.db_pool_max, min_size),
        connect=_connect_host_by_host,
        init=_init_connection,
        setup=_refuse_standby,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def connect(settings: Settings) -> asyncpg.Connection:
    conn = await _connect_host_by_host(**connect_kwargs(settings))
    try:
        await _refuse_standby(conn)
        await _init_connection(conn)
    except BaseException:
        conn.terminate()
        raise
    return conn


async def fetch_as(db: Executor, row_type: type[Row], sql: str, *args: Any) -> list[Row]:
    """Every row of ``sql`` as ``row_type``, a dataclass whose fields are the query's columns."""
    return [row_type(**dict(row)) for row in await db.fetch(sql, *args)]


async def fetchrow_as(db: Executor, row_type: type[Row], sql: str, *args: Any) -> Row | None:
    """The first row of ``sql`` as ``row_type``, or None when there is none."""
    row = await db.fetchrow(sql, *args)
    return None if row is None else row_type(**dict(row))
