"""Queued work per principal as gauges for ``/metrics``, at bounded cardinality: the principals
with the most queued items each get a series (labelled by id, never by name: the endpoint is
public), and every other principal is summed into ``principal="other"``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric

from shared.tenancy.store import Queued

TOP_PRINCIPALS = 10
OTHER = "other"


def queued_families(queued: Mapping[int, Queued], top: int = TOP_PRINCIPALS) -> Iterator[Metric]:
    """``queued``: each principal's queued work, most queued items first."""
    items = GaugeMetricFamily(
        "brickyard_principal_queued_items",
        "Items queued per principal (ER batch items not yet done, 1 per other unfinished job); "
        f"the {top} principals with most, by id, and the rest as other",
        labels=["principal"],
    )
    jobs = GaugeMetricFamily(
        "brickyard_principal_unfinished_jobs",
        f"Unfinished jobs per principal, for the same {top} principals and the rest as other",
        labels=["principal"],
    )
    ranked = list(queued.items())
    for principal_id, work in ranked[:top]:
        items.add_metric([str(principal_id)], work.items)
        jobs.add_metric([str(principal_id)], work.jobs)
    # Always present, so that an alert on it sees 0 rather than nothing.
    items.add_metric([OTHER], sum(work.items for _, work in ranked[top:]))
    jobs.add_metric([OTHER], sum(work.jobs for _, work in ranked[top:]))
    yield items
    yield jobs
