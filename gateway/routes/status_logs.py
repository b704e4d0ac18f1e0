"""Status logs: the records tracker URLs resolve to (``GET /apollo/status/logs``)."""

from __future__ import annotations

from aiohttp import web

from gateway.http import apollo_response, principal, requires_scope, services
from shared.statuslog.query import LOGS_PATH, LogQuery, search_logs

routes = web.RouteTableDef()


@routes.get(LOGS_PATH)
@requires_scope("apollo_read")
async def get_logs(request: web.Request) -> web.Response:
    query = LogQuery.parse(request.query, request.headers.get("continuationToken"))
    records, paging = await search_logs(services(request).pool, principal(request).id, query)
    return apollo_response(request, records, paging=paging)
