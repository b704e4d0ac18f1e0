"""A job as its dashboard page tells it: attempts and the worker of each, queue wait, run
time, a timeline of its events, its chunk helpers, and (for operators) a crash's traceback."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.db import Executor
from shared.jobs import store
from shared.jobs.model import JobRecord
from shared.text import iso

HELPER_KIND = "help_er_batch"


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))


def attempts(job: JobRecord) -> list[dict[str, Any]]:
    """Each attempt: its worker, its start, and how long it ran (the last until the end)."""
    starts = job.attempt_started_at
    shown = []
    for n, (worker, started) in enumerate(zip(job.attempt_workers, starts, strict=False)):
        ended = starts[n + 1] if n + 1 < len(starts) else job.finished_at
        shown.append({
            "number": n + 1, "worker": worker, "startedAt": iso(started),
            "ranMs": _ms(started, ended), "running": ended is None,
        })  # fmt: skip
    return shown


def timeline(job: JobRecord) -> list[dict[str, Any]]:
    events = [("Queued", job.created_at)]
    for n, (worker, started) in enumerate(
        zip(job.attempt_workers, job.attempt_started_at, strict=False)
    ):
        events.append((f"Attempt {n + 1} started on {worker}", started))
    if not job.attempt_workers and job.started_at is not None:
        events.append(("Started", job.started_at))  # before migration 035, or run in the gateway
    if job.finished_at is not None:
        events.append((job.shown_state.capitalize(), job.finished_at))
    return [
        {"event": text, "at": iso(at), "sinceQueuedMs": _ms(job.created_at, at)}
        for text, at in events
    ]


async def job_facts(db: Executor, job: JobRecord, operator: bool) -> dict[str, Any]:
    """What the job page shows beside the job's status."""
    first_start = job.attempt_started_at[0] if job.attempt_started_at else job.started_at
    # Only an ER batch (er_upsert_*) asks for chunk helpers: other pages skip the query.
    helpers = await store.helpers_of(db, job) if job.kind.startswith("er_") else []
    return {
        "queueWaitMs": _ms(job.created_at, first_start),
        "runMs": _ms(first_start, job.finished_at),
        "attempts": attempts(job),
        "timeline": timeline(job),
        "helpers": [
            {
                "token": h.token,
                "state": h.shown_state,
                "worker": (h.attempt_workers or ["-"])[-1],
                "runMs": _ms(h.started_at, h.finished_at),
            }
            for h in helpers
        ],
        "parent": job.request.get("parent")
        if job.kind == HELPER_KIND and isinstance(job.request, dict)
        else None,
        "traceback": job.crash_traceback if operator else None,
        "hasTraceback": job.crash_traceback is not None,
    }
