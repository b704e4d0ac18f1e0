"""The dashboard's failures workbench: failed items across transactions grouped by reason,
one group's items with retry buttons, and downloads (NDJSON, CSV) fetched by the script."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.dashboard import shell
from gateway.http import principal, public, requires_scope, services
from gateway.routes.failures import REASON_KEY
from shared.er import failures
from shared.errors import BadRequest

routes = web.RouteTableDef()
SHOWN_ITEMS = 200
DOWNLOADS = {"ndjson": "application/x-ndjson", "csv": "text/csv"}


def chosen_reason(request: web.Request) -> str | None:
    key = request.query.get("reason") or None
    if key is not None and not REASON_KEY.match(key):
        raise BadRequest("reason is a failure group's key: 16 lower-case hex digits")
    return key


@routes.get("/dashboard/failures")
@public
async def page(request: web.Request) -> web.Response:
    key = chosen_reason(request)
    return shell(
        request, "Failures", "/dashboard/fragments/failures" + (f"?reason={key}" if key else "")
    )


@routes.get("/dashboard/fragments/failures")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("failures.html")
async def fragment(request: web.Request) -> dict[str, Any]:
    pool, caller, key = services(request).pool, principal(request), chosen_reason(request)
    groups = await failures.groups(pool, caller)
    chosen = next((g for g in groups if g["reasonKey"] == key), None)
    found = await failures.items(pool, caller, key, SHOWN_ITEMS + 1) if chosen else []
    return {
        "groups": groups,
        "chosen": chosen,
        "items": found[:SHOWN_ITEMS],
        "more": len(found) > SHOWN_ITEMS,
        "everyone": failures.OPERATOR in caller.scopes,
    }


@routes.get("/dashboard/fragments/failures/download")
@requires_scope("apollo_read")
async def download(request: web.Request) -> web.Response:
    shape = request.query.get("format", "ndjson")
    if shape not in DOWNLOADS:
        raise BadRequest("format is ndjson or csv")
    found = await failures.items(services(request).pool, principal(request), chosen_reason(request))
    body = failures.as_ndjson(found) if shape == "ndjson" else failures.as_csv(found)
    disposition = f'attachment; filename="brickyard-failures.{shape}"'
    return web.Response(
        text=body, content_type=DOWNLOADS[shape], charset="utf-8",
        headers={"Content-Disposition": disposition},
    )  # fmt: skip
