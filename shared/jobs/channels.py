"""Redis channels the gateway and the workers share, named after the queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

import structlog
from redis.asyncio import Redis

from shared.jobs.model import JobRecord
from shared.text import json_text, json_value

log = structlog.get_logger(__name__)
# A wake message names the jobs of an enqueue of at most this many (a worker leases them at
# once); a larger enqueue (the reconciler's) wakes with no token, to claim from the queue.
WAKE_TOKENS_MAX = 16
# A finished job's row rides in the done announcement when its line is at most this long;
# a larger one (a big request or result) is announced by token, and its waiter reads it.
CARRIED_ROW_MAX = 8192
_DATETIMES = ("created_at", "started_at", "changed_at", "finished_at", "lease_expires_at")


def wake_channel(queue_name: str) -> str:
    """Published after every enqueue so idle workers start the job at once instead of polling."""
    return f"{queue_name}:wake"


def wake_message(tokens: list[str]) -> str:
    """The enqueued tokens, space-separated, or nothing when there are too many to lease."""
    return " ".join(tokens) if len(tokens) <= WAKE_TOKENS_MAX else ""


def wake_tokens(message: str) -> list[str]:
    """The jobs a wake names; none: claim whatever the queue holds."""
    return message.split()


def done_channel(queue_name: str) -> str:
    """Published when jobs reach COMPLETE or FAILED, after their outcomes are committed: their
    tokens, space-separated, on the first line (a token is hex, so it never holds a space), one
    message per batch of outcomes; then a line ``token {row}`` for each job whose final row rides
    along, so that its waiter need not read it back from PostgreSQL."""
    return f"{queue_name}:done"


def done_message(tokens: list[str], rows: Mapping[str, JobRecord] | None = None) -> str:
    lines = [" ".join(tokens)]
    for token, record in (rows or {}).items():
        line = f"{token} {_row_text(record)}"
        if len(line) <= CARRIED_ROW_MAX:
            lines.append(line)
    return "\n".join(lines)


def done_tokens(message: str) -> list[str]:
    return message.partition("\n")[0].split()


def done_rows(message: str) -> dict[str, str]:
    """Each carried row's text by token, still encoded: a process decodes only those it awaits
    (``carried_record``)."""
    _, _, rest = message.partition("\n")
    rows = {}
    for line in rest.splitlines():
        token, _, text = line.partition(" ")
        rows[token] = text
    return rows


def _row_text(record: JobRecord) -> str:
    values: dict[str, Any] = {field.name: getattr(record, field.name) for field in fields(record)}
    for name in _DATETIMES:
        moment = values[name]
        values[name] = None if moment is None else moment.isoformat()
    values["attempt_started_at"] = [moment.isoformat() for moment in record.attempt_started_at]
    return json_text(values)


def carried_record(text: str) -> JobRecord:
    values = json_value(text)
    for name in _DATETIMES:
        moment = values[name]
        values[name] = None if moment is None else datetime.fromisoformat(moment)
    values["attempt_started_at"] = [datetime.fromisoformat(m) for m in values["attempt_started_at"]]
    return JobRecord.from_row(values)


async def listen_forever(
    redis: Redis,
    channel: str,
    on_message: Callable[[str], None],
    on_subscribed: Callable[[], None] = lambda: None,
) -> None:
    """Call ``on_message`` with each message's text, resubscribing after a lost connection.

    ``on_subscribed`` runs after every (re)subscription: messages published while the
    connection was down are lost, so callers use it to re-check what they wait for.
    """
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            on_subscribed()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    data = message["data"]
                    on_message(data.decode() if isinstance(data, bytes) else str(data))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("redis subscription lost; resubscribing", channel=channel, error=str(exc))
            await asyncio.sleep(0.5)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
