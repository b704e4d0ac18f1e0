"""The operator charts' rows as types (shared/observability/store.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FinishedInMinute:
    """Jobs finished in one minute (0: this one), and the items they stored or refused."""

    minutes_ago: int
    complete: int
    failed: int
    items: int


@dataclass(frozen=True, slots=True)
class QueueAtMinute:
    """The queue at one minute: jobs waiting to start, and how long the oldest had waited."""

    minutes_ago: int
    depth: int
    latency_s: float


@dataclass(frozen=True, slots=True)
class RunTimes:
    """Run-time percentiles of one kind's recently finished jobs."""

    kind: str
    jobs: int
    p50_s: float
    p95_s: float
