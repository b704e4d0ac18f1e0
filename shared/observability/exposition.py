"""``/metrics``: the cluster's status as gauges, and the counters from Redis, in Prometheus text.

prometheus-client formats them; its own process-local registry is not used, because every
figure here is cluster-wide (see :mod:`shared.observability.metrics`), so any gateway answers
a scrape the same way.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.observability.metrics import counter_families
from shared.observability.status import ClusterStatus

DEPENDENCIES = ("PostgreSQL", "Redis")


def _version() -> str:
    try:
        return metadata.version("brickyard")
    except metadata.PackageNotFoundError:
        return "unknown"


VERSION = _version()


def build_info() -> Metric:
    info = GaugeMetricFamily(
        "brickyard_build_info",
        "Always 1: the release and Python version of the gateway that answered",
        labels=["version", "python"],
    )
    info.add_metric([VERSION, platform.python_version()], 1.0)
    return info


def status_families(status: ClusterStatus) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "brickyard_dependency_up",
        "1 when this scrape could read the dependency; its figures are missing otherwise",
        labels=["dependency"],
    )
    for dependency in DEPENDENCIES:
        up.add_metric([dependency], 0.0 if dependency in status.unavailable else 1.0)
    yield up
    if status.queued is not None and status.workers is not None:
        yield _gauge(
            "brickyard_queue_depth",
            "Jobs waiting in the queue for a worker (running jobs excluded): scale workers on this",
            status.waiting,
        )
        yield _gauge(
            "brickyard_queue_jobs", "Jobs in the Redis queue, running ones included", status.queued
        )
        yield _gauge("brickyard_jobs_running", "Jobs running on live workers", status.running)
        yield _gauge(
            "brickyard_workers_live", "Workers whose heartbeat is live", len(status.workers)
        )
        yield _gauge(
            "brickyard_worker_slots",
            "Jobs the live workers can run at once (the sum of their max jobs)",
            sum(worker.max_jobs for worker in status.workers),
        )
    if status.jobs is not None and status.oldest_waiting is not None:
        latency = GaugeMetricFamily(
            "brickyard_queue_oldest_waiting_seconds",
            "Age of the oldest unfinished job no worker holds, by kind (0 when none waits)",
            labels=["kind"],
        )
        # Every kind ever recorded gets a series, so that an alert sees 0 rather than nothing.
        for kind in sorted({kind for kind, _ in status.jobs} | set(status.oldest_waiting)):
            latency.add_metric([kind], status.oldest_waiting.get(kind, 0.0))
        yield latency
    if status.jobs is not None:
        jobs = GaugeMetricFamily(
            "brickyard_jobs",
            "Jobs recorded in PostgreSQL, by kind and state",
            labels=["kind", "state"],
        )
        for (kind, state), count in sorted(status.jobs.items()):
            jobs.add_metric([kind, state], count)
        yield jobs


def _gauge(name: str, help_text: str, value: float | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value or 0)


class _Snapshot(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def render(
    status: ClusterStatus, counters: Mapping[str, float], extra: Iterable[Metric] = ()
) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    families = [build_info(), *status_families(status), *counter_families(counters), *extra]
    registry.register(_Snapshot(families))
    return generate_latest(registry)
