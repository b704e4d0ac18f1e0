"""The dashboard at /dashboard/: server-rendered pages (aiohttp-jinja2) and one small script.

Pages are shells anyone may load; what they show comes from fragments that need a token, which
the browser keeps in its tab's session and sends as a Bearer header. A tracker URL opened in a
browser (``Accept: text/html``, no Authorization header) gets the status-log page instead of a
401, while API clients still get JSON."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Status-log URLs (query form, the docs' path forms, one transaction) -> the filter they give.
_PATH_FORM = re.compile(
    r"^/+(?:apollo/status/)?(transactionid|transactionId|correlationid|correlationId|entity"
    r"|relationship|ercollection)/([^/]+)/logs/?$"
)
_TRANSACTION = re.compile(r"^/apollo/status/([^/]+)/?$")
_FILTER_OF = {"entity": "entityid", "relationship": "relationshipid"}


def setup(app: web.Application) -> None:
    """Templates for the dashboard's routes (``tracker_pages``, which turns tracker URLs into
    pages for browsers, is in gateway.middleware's list, before authentication)."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("gateway.dashboard", ""),
        autoescape=jinja2.select_autoescape(default=True),
    )


def wants_html(request: web.Request) -> bool:
    """A browser navigating: it names text/html, and ranks it above JSON."""
    accept = request.headers.get("Accept", "")
    if "text/html" not in accept or "Authorization" in request.headers:
        return False
    ranks = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranks[media.strip()] = quality
    html = ranks.get("text/html", 0.0)
    return html > 0 and html >= ranks.get("application/json", 0.0)


def log_filters(request: web.Request) -> dict[str, str] | None:
    """The status-log filters a URL stands for, or None when it is not a status-log URL."""
    path = request.path
    if path.rstrip("/").lstrip("/") == "apollo/status/logs":
        return dict(request.query)
    form = _PATH_FORM.match(path)
    if form:
        name = form[1].lower()
        key = _FILTER_OF.get(name, name if name.endswith("id") else name + "id")
        return {**request.query, key: form[2]}
    transaction = _TRANSACTION.match(path)
    if transaction and transaction[1] != "logs":
        return {"transactionid": transaction[1]}
    return None


@web.middleware
async def tracker_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "GET" and wants_html(request):
        filters = log_filters(request)
        if filters is not None:
            fragment = "/dashboard/fragments/logs?" + urlencode(filters)
            return shell(request, "Status logs", fragment)
    return await handler(request)


def shell(request: web.Request, title: str, fragment: str) -> web.Response:
    return aiohttp_jinja2.render_template(
        "shell.html", request, {"title": title, "fragment": fragment}
    )
