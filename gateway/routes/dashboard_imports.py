"""Import results: ``brickyard import`` reports its summary when it ends (POST
/apollo/imports), and the dashboard's Imports page shows stored/refused counts and refusals
grouped by reason."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.dashboard import shell
from gateway.http import apollo_response, principal, public, read_json, requires_scope, services
from shared.imports import summaries

routes = web.RouteTableDef()


@routes.post("/apollo/imports")
@requires_scope("apollo_write")
async def post_import(request: web.Request) -> web.Response:
    recorded = await summaries.record(
        services(request).pool, principal(request), await read_json(request)
    )
    return apollo_response(request, recorded, status=201, message="Import summary recorded")


@routes.get("/apollo/imports")
@requires_scope("apollo_read")
async def get_imports(request: web.Request) -> web.Response:
    found = await summaries.recent(services(request).pool, principal(request))
    return apollo_response(request, found)


@routes.get("/dashboard/imports")
@public
async def page(request: web.Request) -> web.Response:
    return shell(request, "Imports", "/dashboard/fragments/imports")


@routes.get("/dashboard/fragments/imports")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("imports.html")
async def fragment(request: web.Request) -> dict[str, Any]:
    caller = principal(request)
    found = await summaries.recent(services(request).pool, caller)
    return {"imports": found, "everyone": summaries.OPERATOR in caller.scopes}
