"""The dashboard's pages (public shells), its static files, and the fragments of its overview
and job pages (which need a token). Apollo fragments are in dashboard_apollo."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from gateway.dashboard import shell
from gateway.http import job_token, principal, public, services
from gateway.routes.jobs_list import list_filters
from gateway.routes.operations import OPERATOR
from shared.jobs import JobState
from shared.jobs import store as jobs_store
from shared.jobs.model import JobRecord
from shared.jobs.timeline import job_facts
from shared.observability.status import cluster_status

routes = web.RouteTableDef()
PAGES = {
    "/dashboard/": "Overview",
    "/dashboard/jobs": "Jobs",
    "/dashboard/jobs/{token}": "Job",
    "/dashboard/logs": "Status logs",
    "/dashboard/collections": "Collections",
    "/dashboard/collections/{collection}": "Collection",  # dashboard_collection.py
    "/dashboard/failed/{transaction}": "Failed items",
    "/dashboard/workers": "Workers",
    "/dashboard/charts": "Charts",
    "/dashboard/ontology/{entity_type}": "Ontology",
}
DOT_SEGMENTS = {"%2e", "%2e%2e", ".%2e", "%2e."}  # what a browser's URL parser reads as . or ..
STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
CHART_MINUTES, CHART_WIDTH, CHART_HEIGHT = 30, 600, 100


@public
async def page(request: web.Request) -> web.Response:
    """The page's shell; its script fetches the fragment of the same route with the token.

    The fragment's URL is built from the route and its parameters, each percent-encoded, never
    from the decoded path: a parameter such as ``..%2F..%2Fapollo`` would otherwise make the page
    fetch an API path of the link's choosing with the reader's token."""
    resource = request.match_info.route.resource
    assert resource is not None  # a request matched a route of a resource
    values = dict(request.match_info)
    if any(value in (".", "..") or value.lower() in DOT_SEGMENTS for value in values.values()):
        raise web.HTTPNotFound()
    path = resource.canonical.removeprefix("/dashboard").strip("/") or "overview"
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    # The raw query: the decoded one would turn an encoded # or & into syntax of its own.
    raw = request.rel_url.raw_query_string
    query = f"?{raw}" if raw else ""
    return shell(request, PAGES[resource.canonical], f"/dashboard/fragments/{path}{query}")


for page_path in PAGES:
    routes.get(page_path)(page)


@routes.get("/dashboard")
@public
async def dashboard_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/dashboard/")


@routes.get("/dashboard/static/{name}")
@public
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        raise web.HTTPNotFound()
    body = resources.files("gateway.dashboard").joinpath(name).read_bytes()
    return web.Response(body=body, content_type=STATIC[name], charset="utf-8")


@routes.get("/dashboard/fragments/whoami")
async def whoami(request: web.Request) -> web.Response:
    caller = principal(request)
    return web.Response(text=f"{caller.name} ({', '.join(sorted(caller.scopes))})")


def chart(counts: list[int]) -> dict[str, Any]:
    """Bars of an SVG chart, drawn on the server so the page needs no chart library."""
    peak, step = max(counts) or 1, CHART_WIDTH / len(counts)
    bars = []
    for index, n in enumerate(counts):
        height = round(CHART_HEIGHT * n / peak, 1)
        minutes_ago = len(counts) - 1 - index
        bars.append({
            "x": round(index * step + 1, 1), "y": CHART_HEIGHT - height, "w": round(step - 2, 1),
            "h": height, "n": n, "label": f"{minutes_ago} min ago" if minutes_ago else "this minute",
        })  # fmt: skip
    return {"bars": bars, "peak": max(counts), "width": CHART_WIDTH, "height": CHART_HEIGHT}


@routes.get("/dashboard/fragments/overview")
@aiohttp_jinja2.template("overview.html")
async def overview(request: web.Request) -> dict[str, Any]:
    svc, caller = services(request), principal(request)
    counts = await jobs_store.finished_per_minute(svc.pool, caller.id, CHART_MINUTES)
    # The cluster's figures (every principal's jobs, worker hosts and pids) follow the rule of
    # GET /admin/status: the operator scope.
    if OPERATOR not in caller.scopes:
        return {"status": None, "chart": chart(counts)}
    status = await cluster_status(svc.pool, svc.redis, svc.settings.queue_name)
    return {"status": status.to_json(), "chart": chart(counts)}


# What a job's request names, shown as its labels (and the filters they link to).
LABELS = {"erCollectionId": "collection", "schemaCollectionId": "schemas", "transactionId": "tx"}


def labels(job: JobRecord) -> list[tuple[str, str]]:
    request = job.request if isinstance(job.request, dict) else {}
    return [
        (name, str(request[key]))
        for key, name in LABELS.items()
        if isinstance(request.get(key), str | int) and str(request[key])
    ]


def shown(job: JobRecord) -> dict[str, Any]:
    """A job as its pages show it: its status, the state told apart when a batch completed
    with failed items, a batch's stored and failed counts, and its labels."""
    return {
        **job.status_json(),
        "shownState": job.shown_state,
        "itemsStored": job.items_stored,
        "itemsFailed": job.items_failed,
        "labels": labels(job),
    }


@routes.get("/dashboard/fragments/jobs")
@aiohttp_jinja2.template("jobs.html")
async def jobs(request: web.Request) -> dict[str, Any]:
    state, kind, limit = list_filters(request)
    found = await jobs_store.list_for_principal(
        services(request).pool, principal(request).id, state, kind, limit, fold_helpers=True
    )
    listed = [shown(job) for job in found]
    return {
        "jobs": listed,
        "state": state,
        "kind": kind,
        "states": list(JobState.__members__),
        "kinds": sorted({job.kind for job in found}),
        "running": any(not job.done for job in found),
    }


@routes.get("/dashboard/fragments/jobs/{token}")
@aiohttp_jinja2.template("job.html")
async def job_detail(request: web.Request) -> dict[str, Any]:
    job = await services(request).jobs.get_for(job_token(request), principal(request))
    caller = principal(request)
    facts = await job_facts(services(request).pool, job, OPERATOR in caller.scopes)
    request_body = job.request if isinstance(job.request, dict) else {}
    return {
        "job": shown(job),
        "facts": facts,
        "done": job.done,
        "transaction": request_body.get("transactionId"),
        "result": json.dumps(job.result, indent=2, ensure_ascii=False)[:20_000],
        "request": json.dumps(job.request, indent=2, ensure_ascii=False)[:5_000],
    }
