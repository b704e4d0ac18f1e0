"""Queued work per principal as gauges for ``/metrics``, at bounded cardinality: summed by
principal bucket (a hash of the principal, as the throttling counter is labelled), never by
name or id, because ``/metrics`` is public and carries no principal (docs/operations.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric

from shared.observability.metrics import PRINCIPAL_BUCKETS, principal_bucket
from shared.tenancy.store import Queued


def queued_families(queued: Mapping[int, Queued]) -> Iterator[Metric]:
    """``queued``: each principal's queued work. Every bucket gets a series, 0 when empty, so
    that an alert sees 0 rather than nothing."""
    items: Counter[str] = Counter()
    jobs: Counter[str] = Counter()
    running: Counter[str] = Counter()
    for principal_id, work in queued.items():
        bucket = principal_bucket(principal_id)
        items[bucket] += work.items
        jobs[bucket] += work.jobs
        running[bucket] += work.running
    waiting = jobs - running
    buckets = [f"{n:02d}" for n in range(PRINCIPAL_BUCKETS)]
    for name, help_text, counts in (
        (
            "brickyard_principal_queued_items",
            "Items queued (ER batch items not yet done, 1 per other unfinished job), "
            "by principal bucket",
            items,
        ),
        ("brickyard_principal_unfinished_jobs", "Unfinished jobs, by principal bucket", jobs),
        (
            "brickyard_principal_running_jobs",
            "Unfinished jobs a worker holds a live lease on, by principal bucket",
            running,
        ),
        (
            "brickyard_principal_queue_depth",
            "Unfinished jobs waiting for a worker (running ones excluded), by principal bucket",
            waiting,
        ),
    ):
        family = GaugeMetricFamily(name, help_text, labels=["principal_bucket"])
        for bucket in buckets:
            family.add_metric([bucket], counts[bucket])
        yield family
