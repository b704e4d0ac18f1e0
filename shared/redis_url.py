"""``BRICKYARD_REDIS_URL``: one Redis server, or a primary found through Redis Sentinel.

- ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...`` (TLS) and
  ``unix:///path/to/socket``: one server, as arq reads them.
- ``redis+sentinel://[[user]:password@]host1[:port1][,host2[:port2]...]/service[/db]``: the
  sentinels to ask (port 26379 when left out) for the primary of ``service``; the credentials
  and database are the primary's. Clients follow a failover on their own: a lost connection is
  an outage like any other, and the next connection asks the sentinels again.

Not supported: Redis Cluster (arq keeps a job's keys and its queue in one keyspace and runs
Lua over them), sentinels that need a password of their own, and TLS to the sentinels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from arq.connections import RedisSettings

SENTINEL_SCHEME = "redis+sentinel"
PLAIN_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    database: int = 0
    username: str | None = None
    password: str | None = None


def _port(text: str, where: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{where} has no valid port: {text!r}")
    return int(text)


def parse_sentinel_url(url: str) -> SentinelTarget:
    rest = url.removeprefix(SENTINEL_SCHEME + "://")
    hosts_part, _, path = rest.partition("/")
    username = password = None
    if "@" in hosts_part:
        credentials, _, hosts_part = hosts_part.rpartition("@")
        user_text, has_password, password_text = credentials.partition(":")
        username = unquote(user_text) or None
        password = unquote(password_text) if has_password else None
    sentinels: list[tuple[str, int]] = []
    for address in hosts_part.split(","):
        if address.startswith("["):  # [IPv6]:port
            host, _, port_text = address[1:].partition("]")
            port_text = port_text.removeprefix(":")
        else:
            host, _, port_text = address.rpartition(":") if ":" in address else (address, "", "")
        if not host:
            raise ValueError(f"a sentinel address is empty or has no host: {address!r}")
        port = _port(port_text, f"sentinel {address!r}") if port_text else DEFAULT_SENTINEL_PORT
        sentinels.append((host, port))
    service, _, db_text = path.partition("/")
    if not service:
        raise ValueError("names no service: redis+sentinel://HOST:PORT,.../SERVICE[/DB]")
    db_text = db_text.strip("/")
    if db_text and not db_text.isdigit():
        raise ValueError(f"database must be a number, not {db_text!r}")
    return SentinelTarget(tuple(sentinels), service, int(db_text or 0), username, password)


def check_redis_url(url: str) -> str:
    """The URL unchanged, or a ValueError saying what is wrong with it (no connection made)."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
    elif scheme in PLAIN_SCHEMES:
        redis_settings(url)
    else:
        raise ValueError(
            "must start with redis://, rediss://, unix:// or redis+sentinel:// "
            "(Redis Cluster is not supported)"
        )
    return url


def redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for the URL: every Redis client in Brickyard is built from it."""
    from arq.connections import RedisSettings

    if url.lower().startswith(SENTINEL_SCHEME + "://"):
        target = parse_sentinel_url(url)
        return RedisSettings(
            host=list(target.sentinels),
            sentinel=True,
            sentinel_master=target.service,
            database=target.database,
            username=target.username,
            password=target.password,
        )
    try:
        return RedisSettings.from_dsn(url)
    except (RuntimeError, ValueError) as error:  # a bad scheme, port or database number
        raise ValueError(str(error)) from None
