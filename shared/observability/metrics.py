"""Cluster-wide counters and histograms, kept in Redis so that any gateway can serve all of them.

Every process (the gateway and each worker) adds to a buffer of its own and flushes it to one
Redis hash per queue every few seconds: a worker with its heartbeat, a gateway in the background
and before each scrape. Each field names a metric and its labels, and is only ever incremented
(HINCRBYFLOAT), so the counts outlive the processes that made them and ``/metrics`` on any
gateway answers for the whole cluster, whether its processes share a host or run in separate
containers. (prometheus-client's multiprocess mode needs one shared directory, which separate
containers do not have.) A process that dies loses at most its last few seconds of counts.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from redis.asyncio import Redis

JOB_DURATION = "brickyard_job_duration_seconds"
HTTP_DURATION = "brickyard_http_request_duration_seconds"
ITEMS_PROCESSED = "brickyard_items_processed"
ITEMS_FAILED = "brickyard_items_failed"
JOB_OUTCOMES = "brickyard_job_outcomes"
JOB_RETRIES = "brickyard_job_retries"
THROTTLED = "brickyard_principal_throttled"
HELD_BACK = "brickyard_principal_held_back"
# Throttling is labelled by a hash of the principal, not the principal: bounded cardinality, and
# no principal named on the public /metrics (the log line of each refusal names it).
PRINCIPAL_BUCKETS = 16


@dataclass(frozen=True, slots=True)
class Family:
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()  # empty: a counter


# Jobs last from milliseconds (self-test, small batches) to the 900 s job timeout.
JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600, 900)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120)

FAMILIES: dict[str, Family] = {
    JOB_DURATION: Family(
        "Time one attempt at a job took, from its start on a worker to its outcome",
        ("kind", "state"),
        JOB_BUCKETS,
    ),
    HTTP_DURATION: Family(
        "Gateway request duration, by route (its canonical path), method and status",
        ("method", "route", "status"),
        HTTP_BUCKETS,
    ),
    ITEMS_PROCESSED: Family("ER batch items that reached a final state", ("item",)),
    ITEMS_FAILED: Family("ER batch items that ended Failed", ("item",)),
    JOB_OUTCOMES: Family(
        "Attempts at jobs that reached an outcome, by kind and outcome", ("kind", "outcome")
    ),
    JOB_RETRIES: Family("Attempts at jobs run again after an interrupted attempt", ("kind",)),
    THROTTLED: Family(
        "Requests refused (429) for a principal's limit, by limit and principal bucket "
        f"(a hash of the principal, one of {PRINCIPAL_BUCKETS})",
        ("limit", "principal_bucket"),
    ),
    HELD_BACK: Family(
        "Queued jobs a worker's claim left waiting because their principal had its running-jobs "
        "limit of jobs running, by principal bucket",
        ("principal_bucket",),
    ),
}

_JOB_BUCKETS = FAMILIES[JOB_DURATION].buckets

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metrics_key(queue_name: str) -> str:
    return f"{queue_name}:metrics"


def _field(name: str, labels: Mapping[str, str]) -> str:
    return _field_of(name, tuple(sorted(labels.items())))


# Every finished job and request counts three fields: encoding their names once per label set
# (a few hundred in all) keeps JSON out of the worker's per-job path.
@functools.lru_cache(maxsize=4096)
def _field_of(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    return json.dumps([name, dict(labels)], sort_keys=True, separators=(",", ":"))


def _bucket_label(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


@functools.lru_cache(maxsize=4096)
def _job_fields(kind: str, state: str, bound: float) -> tuple[str, str, str, str]:
    labels = {"kind": kind, "state": state}
    return (
        _field(JOB_DURATION + "_bucket", {**labels, "le": _bucket_label(bound)}),
        _field(JOB_DURATION + "_sum", labels),
        _field(JOB_DURATION + "_count", labels),
        _field(JOB_OUTCOMES, {"kind": kind, "outcome": state}),
    )


class MetricsBuffer:
    """Increments counted in this process and not yet added to Redis."""

    def __init__(self) -> None:
        self._deltas: dict[str, float] = defaultdict(float)

    def count(self, name: str, labels: Mapping[str, str], amount: float = 1.0) -> None:
        if amount:
            self._deltas[_field(name, labels)] += amount

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        # Buckets are stored one by one (not cumulative): one field per observation.
        bound = next((b for b in FAMILIES[name].buckets if value <= b), float("inf"))
        self.count(name + "_bucket", {**labels, "le": _bucket_label(bound)})
        self.count(name + "_sum", labels, value)
        self.count(name + "_count", labels)

    def job_finished(self, kind: str, state: str, seconds: float) -> None:
        # What ``observe`` and ``count`` would add, with the four fields' names looked up once
        # per kind, state and bucket: this runs for every job a worker finishes.
        bound = next((b for b in _JOB_BUCKETS if seconds <= b), float("inf"))
        bucket, total, count, outcome = _job_fields(kind, state, bound)
        deltas = self._deltas
        deltas[bucket] += 1.0
        if seconds:
            deltas[total] += seconds
        deltas[count] += 1.0
        deltas[outcome] += 1.0

    def job_retried(self, kind: str) -> None:
        self.count(JOB_RETRIES, {"kind": kind})

    def request_finished(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "other"
        labels = {"method": method, "route": route, "status": str(status)}
        self.observe(HTTP_DURATION, labels, seconds)

    def held_back(self, jobs_by_principal: Mapping[int, int]) -> None:
        for principal_id, jobs in jobs_by_principal.items():
            self.count(HELD_BACK, {"principal_bucket": principal_bucket(principal_id)}, jobs)

    def items_finished(self, item: str, processed: int, failed: int) -> None:
        self.count(ITEMS_PROCESSED, {"item": item}, processed)
        self.count(ITEMS_FAILED, {"item": item}, failed)

    async def flush(self, redis: Redis, key: str) -> None:
        """Add what was counted to Redis; kept for the next flush if Redis cannot take it."""
        if not self._deltas:
            return
        deltas, self._deltas = self._deltas, defaultdict(float)
        try:
            async with redis.pipeline(transaction=True) as pipe:
                for field, amount in deltas.items():
                    pipe.hincrbyfloat(key, field, amount)
                await pipe.execute()
        except BaseException:
            for field, amount in deltas.items():
                self._deltas[field] += amount
            raise


# The current task's buffer (a worker's job, a gateway's request), so that domain code (an ER
# batch, a job run in the gateway) can count without being handed the process's buffer.
_BUFFER: ContextVar[MetricsBuffer | None] = ContextVar("brickyard_metrics", default=None)


def bind_metrics(buffer: MetricsBuffer | None) -> None:
    """Count what the current task does into ``buffer``."""
    _BUFFER.set(buffer)


def count_finished_items(item: str, processed: int, failed: int) -> None:
    """Items of an ER batch (``item``: entity or relationship) written or failed."""
    buffer = _BUFFER.get()
    if buffer is not None:
        buffer.items_finished(item, processed, failed)


def principal_bucket(principal_id: int) -> str:
    digest = hashlib.sha256(str(principal_id).encode()).digest()
    return f"{digest[0] % PRINCIPAL_BUCKETS:02d}"


def count_throttled(principal_id: int, limit: str) -> None:
    """A request refused for one of its principal's limits (``limit`` names which)."""
    buffer = _BUFFER.get()
    if buffer is not None:
        labels = {"limit": limit, "principal_bucket": principal_bucket(principal_id)}
        buffer.count(THROTTLED, labels)


def count_job(kind: str, state: str, seconds: float) -> None:
    """A job run outside a worker (in the gateway, inside its caller's request)."""
    buffer = _BUFFER.get()
    if buffer is not None:
        buffer.job_finished(kind, state, seconds)


async def read_counters(redis: Redis, queue_name: str) -> dict[str, float]:
    raw: dict[Any, Any] = await redis.hgetall(metrics_key(queue_name))  # type: ignore[misc]  # redis-py types it as maybe-sync
    return {_text(field): float(value) for field, value in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def counter_families(counters: Mapping[str, float]) -> Iterator[Metric]:
    """Prometheus metric families from the fields of the metrics hash."""
    series: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {n: {} for n in FAMILIES}
    for field, value in counters.items():
        try:
            stored, labels = json.loads(field)
        except (ValueError, TypeError):
            continue  # not ours: ignored rather than failing the scrape
        name, _, part = stored.rpartition("_") if stored not in FAMILIES else (stored, "", "")
        family = FAMILIES.get(name)
        if family is None:
            continue
        key = tuple(str(labels.get(label, "")) for label in family.labels)
        entry = series[name].setdefault(key, {"buckets": {}, "sum": 0.0, "value": 0.0})
        if part == "bucket":
            entry["buckets"][labels.get("le", "+Inf")] = value
        elif part == "sum":
            entry["sum"] = value
        else:
            entry["value"] = value
    for name, family in FAMILIES.items():
        if family.buckets:
            histogram = HistogramMetricFamily(name, family.help, labels=family.labels)
            for key, entry in sorted(series[name].items()):
                histogram.add_metric(list(key), _cumulative(family, entry["buckets"]), entry["sum"])
            yield histogram
        else:
            counter = CounterMetricFamily(name, family.help, labels=family.labels)
            for key, entry in sorted(series[name].items()):
                counter.add_metric(list(key), entry["value"])
            yield counter


def _cumulative(family: Family, buckets: Mapping[str, float]) -> list[tuple[str, float]]:
    total, out = 0.0, []
    for bound in (*family.buckets, float("inf")):
        label = _bucket_label(bound)
        total += buckets.get(label, 0.0)
        out.append((label, total))
    return out
