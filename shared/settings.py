"""One settings object, read from the environment once (prefix ``BRICKYARD_``) and passed down.

Each setting is declared once, below, with its variable, default, meaning, parser and the
commands that read it; reading the environment, handing it to a child process, each command's
``--help`` and the README's table are all derived from that declaration.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.redis_url import check_redis_url

PREFIX = "BRICKYARD_"
COMMANDS = ("run", "gateway", "worker", "migrate", "token", "status")
# Clients of the HTTP API: they read no server's settings, only where the gateway is.
CLIENTS = ("import", "export", "retry")


class SettingsError(ValueError):
    """A bad value in the environment; its message is one line naming each variable."""


# Parsers: text from the environment to a value, or a ValueError saying what is wrong.


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError("is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
            raise ValueError(f"must be {span}")
        return value

    return parse


def seconds(*, zero_allowed: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("is not a number of seconds") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_allowed):
            raise ValueError("must be 0 or more" if zero_allowed else "must be more than 0")
        return value

    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text.lower()

    return parse


def url(*schemes: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        parts = urlsplit(text)
        if parts.scheme.lower() not in schemes:
            raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        return text

    return parse


# Targets that only a primary (a server that takes writes) satisfies: with several hosts, any
# other choice could connect to a standby and stay there.
_WRITABLE_TARGETS = ("read-write", "primary")


def postgres_url(value: str) -> str:
    """A libpq-style URL, with one host or several (``h1:p1,h2:p2``) to fail over between."""
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValueError("must be a postgresql:// or postgres:// URL")
    hosts = parts.netloc.rpartition("@")[2].split(",")
    for host in hosts:
        port = host.rpartition("]")[2].partition(":")[2]  # an IPv6 address's colons are bracketed
        if port and not port.isdigit():
            raise ValueError("has a port that is not a number")
    target = parse_qs(parts.query).get("target_session_attrs", [None])[-1]
    if len(hosts) > 1 and target not in _WRITABLE_TARGETS:
        raise ValueError(
            "lists several hosts: add target_session_attrs=read-write so only a primary is used"
        )
    return value


def text(value: str) -> str:
    return value


def identifier(value: str) -> str:
    # Unquoted in the connection's search_path, so PostgreSQL would fold any capital letter.
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise ValueError("must be a lower-case identifier (a-z, 0-9, _; at most 63 characters)")
    return value


def redis(value: str) -> str:
    return check_redis_url(value)


SERVE = ("run", "gateway")
WORK = ("run", "worker")
REDIS = ("run", "gateway", "worker", "status")
# Where the gateway is: HOST and PORT make the default of PUBLIC_URL, which is URL's default;
# `token` looks there for a system it was not pointed at.
FIND_GATEWAY = ("token", "status", *CLIENTS)
ASK_GATEWAY = ("status", *CLIENTS)


def setting(
    env: str,
    default: Any,
    meaning: str,
    parse: Callable[[str], Any],
    commands: tuple[str, ...] = COMMANDS,
    shown_default: str | None = None,
) -> Any:
    """A field declared with everything the environment, ``--help`` and the README need."""
    return dataclasses.field(
        default=default,
        metadata={
            "env": PREFIX + env,
            "meaning": meaning,
            "parse": parse,
            "commands": commands,
            "shown_default": shown_default,
        },
    )


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = setting(
        "DATABASE_URL",
        None,
        "PostgreSQL DSN; several hosts (h1:p1,h2:p2) need target_session_attrs=read-write",
        postgres_url,
        shown_default="unset: embedded PostgreSQL",
    )
    redis_url: str | None = setting(
        "REDIS_URL",
        None,
        "Redis DSN: `redis://`, `rediss://`, `unix://` or `redis+sentinel://` ([Past one Redis](#past-one-redis))",
        redis,
        REDIS,
        shown_default="unset: embedded Valkey",
    )
    host: str = setting("HOST", "127.0.0.1", "gateway bind address", text, (*SERVE, *FIND_GATEWAY))
    port: int = setting("PORT", 8080, "gateway port", whole(1, 65535), (*SERVE, *FIND_GATEWAY))
    workers: int = setting(
        "WORKERS", 2, "worker processes started by `brickyard run`", whole(0), ("run",)
    )
    gateway_processes: int = setting(
        "GATEWAY_PROCESSES",
        1,
        "gateway processes started by `brickyard run`, sharing the port (SO_REUSEPORT; Linux, "
        "macOS): one is an event loop on one core",
        whole(1, 64),
        ("run", "gateway"),
    )
    public_url_override: str | None = setting(
        "PUBLIC_URL",
        None,
        "base of tracker links",
        url("http", "https"),
        ("run", "gateway", "worker", *FIND_GATEWAY),
        shown_default="`http://HOST:PORT`",
    )
    client_url: str | None = setting(
        "URL",
        None,
        "the gateway that `import`, `export` and `retry` call, and `status` asks when it knows "
        "no servers (`--url` overrides it)",
        url("http", "https"),
        FIND_GATEWAY,
        shown_default="`BRICKYARD_PUBLIC_URL`",
    )
    client_token: str | None = setting(
        "TOKEN",
        None,
        "the bearer token they send (`--token` overrides it); `status` needs the `operator` scope",
        text,
        ASK_GATEWAY,
        shown_default="none",
    )
    data_dir: Path = setting(  # noqa: RUF009 - setting() is a dataclasses.field
        "DATA_DIR",
        Path("./.brickyard"),
        "where embedded servers, the Brick release cache and import journals keep their data; "
        "`brickyard run` records there the servers it started, for `token` and `status` to find",
        Path,
        ("run", "gateway", "worker", "migrate", "token", "status", "import"),
        shown_default="`./.brickyard`",
    )
    # Every table lives in this Postgres schema; tests give each test its own.
    database_schema: str = setting(
        "DATABASE_SCHEMA", "public", "PostgreSQL schema holding every table", identifier
    )
    queue_name: str = setting(
        "QUEUE_NAME",
        "brickyard:queue",
        "arq queue (and the prefix of its wake/done channels)",
        text,
        REDIS,
    )
    max_body_bytes: int = setting(
        "MAX_BODY_BYTES", 10 * 1024 * 1024, "request body limit (413 above)", whole(1), SERVE
    )
    job_timeout_s: float = setting(
        "JOB_TIMEOUT", 900.0, "seconds a job may run before it fails with 504", seconds(), WORK
    )
    # A running job's claim in Redis is renewed while its worker lives; a dead worker's job is
    # picked up again by another worker once this lease runs out.
    job_lease_s: float = setting(
        "JOB_LEASE", 10.0, "seconds after which a dead worker's job is taken over", seconds(), WORK
    )
    job_max_tries: int = setting(
        "JOB_MAX_TRIES", 5, "interrupted attempts of one job before it ends FAILED", whole(1), WORK
    )
    reconcile_interval_s: float = setting(
        "RECONCILE_INTERVAL",
        5.0,
        "seconds between reconciler passes (0: off)",
        seconds(zero_allowed=True),
        WORK,
    )
    worker_max_jobs: int = setting(
        "WORKER_MAX_JOBS", 100, "jobs one worker runs at once", whole(1), WORK
    )
    worker_niceness: int = setting(
        "WORKER_NICENESS",
        10,
        "CPU niceness a worker process adds to its own (0: none), so the gateway's synchronous calls win the CPU from a busy worker",
        whole(0, 19),
        WORK,
    )
    sync_wait_timeout_s: float = setting(
        "SYNC_WAIT_TIMEOUT",
        120.0,
        "seconds a synchronous call waits for its job (then 504; the job goes on)",
        seconds(),
        SERVE,
    )
    db_pool_max: int = setting(
        "DB_POOL_MAX", 10, "connections per process", whole(1), ("run", "gateway", "worker")
    )
    log_level: str = setting(
        "LOG_LEVEL",
        "info",
        "`debug`, `info`, `warning`, `error` or `critical`",
        one_of("debug", "info", "warning", "error", "critical"),
        (*COMMANDS, *CLIENTS),
    )
    log_format: str = setting(
        "LOG_FORMAT",
        "auto",
        "`json`, `console`, or `auto` (console on a terminal, JSON lines otherwise)",
        one_of("json", "console", "auto"),
    )
    changefeed_retention_s: float = setting(
        "CHANGEFEED_RETENTION",
        7 * 24 * 3600.0,
        "seconds an ER change-feed event is kept (reading from an older sequence id is a 410)",
        seconds(),
        SERVE,
    )

    changefeed_recheck_s: float = setting(
        "CHANGEFEED_RECHECK",
        5.0,
        "seconds between checks of an open change-feed stream's access (revoked, expired or no longer a reader: it ends)",
        seconds(),
        SERVE,
    )
    idle_timeout_s: float = setting(
        "IDLE_TIMEOUT",
        15.0,
        "seconds a connection may go without sending a whole request head (idle keep-alive, silent and slow-header connections are closed)",
        seconds(),
        SERVE,
    )
    body_timeout_s: float = setting(
        "BODY_TIMEOUT",
        60.0,
        "seconds a request body may take to arrive (408 and the connection closed after)",
        seconds(),
        SERVE,
    )
    write_timeout_s: float = setting(
        "WRITE_TIMEOUT",
        30.0,
        "seconds a change-feed stream's client may take to accept the next event (the stream ends after)",
        seconds(),
        SERVE,
    )
    streams_per_principal: int = setting(
        "STREAMS_PER_PRINCIPAL",
        8,
        "change-feed streams one principal may hold open per gateway process (429 above)",
        whole(1),
        SERVE,
    )
    upload_bytes_per_principal: int = setting(
        "UPLOAD_BYTES_PER_PRINCIPAL",
        1024**3,
        "bytes of uploaded files one principal may keep stored (413 above)",
        whole(1),
        SERVE,
    )
    requests_per_second_per_principal: int = setting(
        "REQUESTS_PER_SECOND_PER_PRINCIPAL",
        1000,
        "requests one principal may make per second, in bursts of as many, across all gateways (429 above)",
        whole(1),
        SERVE,
    )
    unfinished_jobs_per_principal: int = setting(
        "UNFINISHED_JOBS_PER_PRINCIPAL",
        100_000,
        "jobs one principal may have recorded and not yet finished, queued or running (429 above)",
        whole(1),
        SERVE,
    )
    queued_items_per_principal: int = setting(
        "QUEUED_ITEMS_PER_PRINCIPAL",
        1_000_000,
        "items one principal may have queued: ER batch items not yet done, and 1 per other unfinished job (429 above)",
        whole(1),
        SERVE,
    )
    running_jobs_per_principal: int = setting(
        "RUNNING_JOBS_PER_PRINCIPAL",
        1000,
        "jobs (a batch's chunk helpers included) of one principal that may run at once across all workers; more wait queued, in their order",
        whole(1),
        WORK,
    )
    chunk_loops_per_principal: int = setting(
        "CHUNK_LOOPS_PER_PRINCIPAL",
        1,
        "chunks of one principal's ER batches that one worker process works on at once (2 overlaps a lone batch's validation with its SQL, at the cost of other principals' latency beside a flood)",
        whole(1),
        WORK,
    )
    sparql_processes: int = setting(
        "SPARQL_PROCESSES",
        3,
        "SPARQL query processes per gateway process (queries evaluated at once)",
        whole(1, 64),
        SERVE,
    )
    sparql_queries_per_principal: int = setting(
        "SPARQL_QUERIES_PER_PRINCIPAL",
        2,
        "SPARQL queries one principal may run at once (429 above)",
        whole(1),
        SERVE,
    )
    sparql_memory_mb: int = setting(
        "SPARQL_MEMORY_MB",
        1024,
        "memory one SPARQL query process may use, its graphs included (the query fails with 400 above)",
        whole(64),
        SERVE,
    )

    @property
    def public_url(self) -> str:
        if self.public_url_override:
            return self.public_url_override.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def gateway_url(self) -> str:
        """Where a client command finds the gateway."""
        return (self.client_url or self.public_url).rstrip("/")

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (the process's own by default); :class:`SettingsError`
        names every variable whose value is wrong, and what is wrong with it."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for item in declared():
            raw = env.get(item.metadata["env"])
            if raw in (None, ""):  # empty is unset, as in a compose file's `VAR=`
                continue
            try:
                values[item.name] = item.metadata["parse"](raw.strip())
            except ValueError as error:
                problems.append(f"{item.metadata['env']}={raw!r} {error}")
        if problems:
            raise SettingsError("; ".join(problems))
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The environment that makes a child process read back these same settings."""
        return {
            item.metadata["env"]: str(getattr(self, item.name))
            for item in declared()
            if getattr(self, item.name) is not None
        }


def declared() -> Iterator[dataclasses.Field[Any]]:
    return (item for item in dataclasses.fields(Settings) if "env" in item.metadata)


def _shown_default(item: dataclasses.Field[Any]) -> str:
    if item.metadata["shown_default"]:
        return str(item.metadata["shown_default"])
    value = item.default
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def settings_help(command: str) -> str:
    """The settings ``command`` reads, for the end of its ``--help``."""
    lines = ["settings (environment variables) this command reads:"]
    for item in declared():
        if command in item.metadata["commands"]:
            default = _shown_default(item).replace("`", "")
            meaning = item.metadata["meaning"].replace("`", "").split(" ([")[0]
            lines.append(f"  {item.metadata['env']:<30} {meaning} [default: {default}]")
    return "\n".join(lines)


def markdown_table() -> str:
    """The README's settings table: `python -m shared.settings` prints it."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for item in declared():
        meaning = item.metadata["meaning"]
        lines.append(f"| `{item.metadata['env']}` | {_shown_default(item)} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
