"""What operators and API readers need: metrics, the cluster's status, the API's description."""

from __future__ import annotations

import contextlib
from importlib import resources

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric

from gateway.http import json_response, public, requires_scope, services
from gateway.metrics import flush
from gateway.openapi import openapi_document
from shared.observability.exposition import render
from shared.observability.metrics import read_counters
from shared.observability.status import cluster_status
from shared.outages import is_outage, outage_of
from shared.tenancy.metrics import queued_families
from shared.tenancy.store import queued_by_principal

routes = web.RouteTableDef()

OPERATOR = "operator"


@routes.get("/metrics")
@public
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics for the whole cluster, whichever gateway answers.

    No token: only aggregate figures (no principals, tokens or data). A dependency that is down
    leaves its figures out (``brickyard_dependency_up`` says which) rather than failing."""
    svc = services(request)
    with contextlib.suppress(Exception):
        await flush(request.app)  # this gateway's latest requests; else at the next flush
    status = await cluster_status(svc.pool, svc.redis, svc.settings.queue_name)
    counters: dict[str, float] = {}
    try:
        counters = await read_counters(svc.redis, svc.settings.queue_name)
    except Exception as exc:
        status.unavailable.setdefault(outage_of(exc) or "Redis", str(exc) or repr(exc))
    per_principal: list[Metric] = []
    try:
        per_principal = list(queued_families(await queued_by_principal(svc.pool)))
    except Exception as exc:
        if not is_outage(exc):
            raise
        status.unavailable.setdefault(outage_of(exc) or "PostgreSQL", str(exc) or repr(exc))
    return web.Response(
        body=render(status, counters, per_principal), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


@routes.get("/admin/status")
@requires_scope(OPERATOR)
async def admin_status(request: web.Request) -> web.Response:
    """Queue depth, jobs by state and kind, and the live workers with their last heartbeat.

    What ``brickyard status`` prints. Needs the ``operator`` scope."""
    svc = services(request)
    status = await cluster_status(svc.pool, svc.redis, svc.settings.queue_name)
    return json_response(status.to_json())


@routes.get("/openapi.json")
@public
async def openapi(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document, generated from the gateway's routes."""
    return json_response(openapi_document(request.app))


@routes.get("/docs")
@public
async def docs(request: web.Request) -> web.Response:
    """A readable page of the API, rendered in the browser from ``/openapi.json`` (no CDN)."""
    page = resources.files("gateway.static").joinpath("docs.html").read_bytes()
    return web.Response(body=page, content_type="text/html", charset="utf-8")


DOCS_FILES = {"docs.js": "text/javascript", "docs.css": "text/css"}


@routes.get("/docs/static/{name}")
@public
async def docs_file(request: web.Request) -> web.Response:
    """The API page's script and style (files, so the Content-Security-Policy forbids inline)."""
    name = request.match_info["name"]
    if name not in DOCS_FILES:
        raise web.HTTPNotFound()
    body = resources.files("gateway.static").joinpath(name).read_bytes()
    return web.Response(body=body, content_type=DOCS_FILES[name], charset="utf-8")
