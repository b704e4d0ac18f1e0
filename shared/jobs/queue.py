"""Putting a job on the arq queue: one Redis round trip, the same for the gateway, the workers
(a batch's chunk helpers) and the reconciler.

arq's own ``enqueue_job`` watches the job key to refuse duplicates, which costs two more round
trips; here PostgreSQL already guarantees one job per token, so the job key (arq's format, for
arq's tools), the queue entry at its principal's fair place and the wake-up go out in one Lua
script (:mod:`shared.jobs.fair_queue`).
"""

from __future__ import annotations

from shared.jobs.fair_queue import JOB_KEY_TTL_MS, QueuedJob, enqueue

__all__ = ["JOB_KEY_TTL_MS", "QueuedJob", "enqueue"]
