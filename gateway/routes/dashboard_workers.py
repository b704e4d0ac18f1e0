"""The dashboard's workers page: each live worker, the jobs it is running, its uptime and
memory, from the heartbeats that ``GET /admin/status`` reads too."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.http import principal, services
from gateway.routes.operations import OPERATOR
from shared.observability.status import cluster_status

routes = web.RouteTableDef()


def uptime(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def mebibytes(size: int | None) -> str:
    return "?" if not size else f"{size / 2**20:.0f} MiB"


@routes.get("/dashboard/fragments/workers")
@aiohttp_jinja2.template("workers.html")
async def workers(request: web.Request) -> dict[str, Any]:
    # Worker hosts and pids, and every principal's jobs: for operators, as GET /admin/status.
    if OPERATOR not in principal(request).scopes:
        return {"status": None}
    svc = services(request)
    status = (await cluster_status(svc.pool, svc.redis, svc.settings.queue_name)).to_json()
    for worker in status["workers"] or []:
        worker["uptime"] = uptime(worker["uptimeSeconds"])
        worker["memory"] = mebibytes(worker["rssBytes"])
    return {"status": status}
