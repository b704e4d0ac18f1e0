"""The record a ``brickyard run`` keeps in its data dir of the servers it started, so that the
commands an operator runs beside it (``brickyard token``, ``brickyard status``) use those servers
instead of starting servers of their own.

The embedded Valkey listens on a port chosen at start-up and the embedded PostgreSQL on a
socket only its supervisor knows; a command without the record either failed (``status``) or
started a second PostgreSQL in whatever data dir its working directory implied and minted a
token there, which the running gateway then refused (401). The record is ``DATA_DIR/run.json``,
readable by its owner alone (the database URL is a login), written once the servers are up and
removed when ``brickyard run`` ends; a record whose process is gone (SIGKILL) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

from shared.settings import Settings

RECORD_NAME = "run.json"


@dataclass(frozen=True, slots=True)
class RunRecord:
    pid: int
    started: float  # the process's start time: a reused pid is not this run
    data_dir: str
    gateway_url: str
    database_url: str | None  # only the servers it started: external URLs are the operator's
    redis_url: str | None

    def alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return (
                process.status() != psutil.STATUS_ZOMBIE
                and abs(process.create_time() - self.started) < 1.0
            )
        except psutil.Error:
            return False


def record_path(data_dir: Path) -> Path:
    return data_dir.resolve() / RECORD_NAME


@contextlib.contextmanager
def recorded(settings: Settings, resolved: Settings) -> Iterator[None]:
    """While ``brickyard run`` runs: the embedded servers of ``resolved`` (those ``settings``
    left unset) recorded in the data dir. Nothing is recorded when nothing is embedded."""
    database = None if settings.database_url else resolved.database_url
    redis = None if settings.redis_url else resolved.redis_url
    if database is None and redis is None:
        yield
        return
    me = psutil.Process()
    record = RunRecord(
        pid=me.pid,
        started=me.create_time(),
        data_dir=str(settings.data_dir.resolve()),
        gateway_url=resolved.public_url,
        database_url=database,
        redis_url=redis,
    )
    path = record_path(settings.data_dir)
    partial = path.with_suffix(".partial")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(asdict(record), out)
    partial.replace(path)
    try:
        yield
    finally:
        # Only our own: a second `brickyard run` refused on the same data dir must not remove it.
        if running(settings.data_dir) in (record, None):
            path.unlink(missing_ok=True)


def running(data_dir: Path) -> RunRecord | None:
    """The live ``brickyard run`` recorded in ``data_dir``, if any."""
    try:
        raw = json.loads(record_path(data_dir).read_text())
        record = RunRecord(**raw)
    except (OSError, ValueError, TypeError):
        return None
    return record if record.alive() else None


def with_running_servers(settings: Settings) -> Settings:
    """``settings`` with each unset server URL taken from the live run in its data dir."""
    record = running(settings.data_dir)
    if record is None:
        return settings
    return settings.replace(
        database_url=settings.database_url or record.database_url,
        redis_url=settings.redis_url or record.redis_url,
    )


def gateway_answers(url: str) -> bool:
    """Whether a Brickyard gateway answers ``/healthz`` at ``url`` (every answer of one says
    ``Server: brickyard``; some other program on the port is not one)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=2) as answer:
            return bool(answer.status == 200 and answer.headers.get("Server") == "brickyard")
    except (OSError, ValueError):
        return False
