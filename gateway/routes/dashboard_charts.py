"""The dashboard's charts page: throughput with its failures, items per second, queue depth and
latency over time, and run time percentiles by kind, all computed from the jobs table."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.dashboard.charts import Series, by_minute, lines, stacked_bars
from gateway.http import principal, services
from gateway.routes.operations import OPERATOR
from shared.observability import store
from shared.observability.rows import RunTimes

routes = web.RouteTableDef()
MINUTES = 60


@routes.get("/dashboard/fragments/charts")
@aiohttp_jinja2.template("charts.html")
async def charts(request: web.Request) -> dict[str, Any]:
    # Every principal's jobs: the operator's view, as GET /admin/status is.
    if OPERATOR not in principal(request).scopes:
        return {"allowed": False}
    pool = services(request).pool
    done = await store.throughput(pool, MINUTES)
    queue = await store.queue_over_time(pool, MINUTES)
    run_times = await store.run_time_by_kind(pool, MINUTES)
    complete = by_minute([(r.minutes_ago, r.complete) for r in done], MINUTES)
    failed = by_minute([(r.minutes_ago, r.failed) for r in done], MINUTES)
    items = by_minute([(r.minutes_ago, r.items) for r in done], MINUTES, 1 / 60)
    depth = by_minute([(r.minutes_ago, r.depth) for r in queue], MINUTES)
    latency = by_minute([(r.minutes_ago, r.latency_s) for r in queue], MINUTES)
    return {
        "allowed": True,
        "minutes": MINUTES,
        "throughput": stacked_bars(
            [Series("complete", complete), Series("failed", failed, "failed")], "jobs/min"
        ),
        "items": lines([Series("items/s", items)], "items/s"),
        "depth": lines([Series("waiting jobs", depth)], "jobs"),
        "latency": lines([Series("oldest waiting", latency, "failed")], "s"),
        "run_times": run_time_rows(run_times),
    }


def run_time_rows(rows: list[RunTimes]) -> list[dict[str, Any]]:
    """Kinds with their p50 and p95 and bar widths (percent of the slowest p95)."""
    slowest = max((row.p95_s for row in rows), default=0.0) or 1.0
    return [
        {
            "kind": row.kind,
            "jobs": row.jobs,
            "p50": round(row.p50_s, 3),
            "p95": round(row.p95_s, 3),
            "p50_width": round(300 * row.p50_s / slowest, 1),
            "p95_width": round(300 * row.p95_s / slowest, 1),
        }
        for row in rows
    ]
