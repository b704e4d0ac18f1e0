"""Redis channels the gateway and the workers share, named after the queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)


def wake_channel(queue_name: str) -> str:
    """Published after every enqueue so idle workers start the job at once instead of polling."""
    return f"{queue_name}:wake"


def done_channel(queue_name: str) -> str:
    """Published when jobs reach COMPLETE or FAILED: their tokens, space-separated, one message
    per batch of outcomes (a token is hex, so it never holds a space)."""
    return f"{queue_name}:done"


def done_message(tokens: list[str]) -> str:
    return " ".join(tokens)


def done_tokens(message: str) -> list[str]:
    return message.split()


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
