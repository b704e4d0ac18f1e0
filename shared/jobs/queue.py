"""Putting a job on the arq queue: one Redis round trip, the same for the gateway and the
reconciler.

arq's own ``enqueue_job`` watches the job key to refuse duplicates, which costs two more round
trips; here PostgreSQL already guarantees one job per token, so the job key (arq's format, for
arq's tools), the queue entry and the wake-up go out in one pipeline.
"""

from __future__ import annotations

from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.asyncio import Redis

from shared.jobs.channels import wake_channel, wake_message

# arq's default: a queued job's key outlives a day of waiting (the queue entry is what counts).
JOB_KEY_TTL_MS = 86_400_000


async def enqueue(redis: Redis, queue_name: str, jobs: list[tuple[str, str]]) -> None:
    """Queue each ``(kind, token)`` under its token and wake idle workers, naming the jobs
    (a few) so that a worker can lease them without claiming them from the queue first."""
    now = timestamp_ms()
    async with redis.pipeline(transaction=True) as pipe:
        for kind, token in jobs:
            payload = serialize_job(kind, (token,), {}, None, now, serializer=None)
            pipe.psetex(job_key_prefix + token, JOB_KEY_TTL_MS, payload)
            pipe.zadd(queue_name, {token: now})
        pipe.publish(wake_channel(queue_name), wake_message([token for _, token in jobs]))
        await pipe.execute()
