"""Status logs: the records tracker URLs resolve to, by query (``GET /apollo/status/logs``) or by
the docs' path forms, and one transaction's status (``GET /apollo/status/{transactionId}``)."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_family,
    apollo_response,
    page_asked,
    principal,
    requires_scope,
    services,
)
from shared.statuslog.query import LOGS_PATH, LogQuery, search_logs
from shared.statuslog.records import transaction_summary
from shared.text import storable

routes = web.RouteTableDef()

# The docs' path forms, each under /apollo/status and (as the doc pages write them) at the
# root. {value} fills the filter named; the ercollection form without it uses the header.
PATH_FORMS = {
    "/transactionid/{value}/logs": "transactionid",
    "/transactionId/{value}/logs": "transactionid",
    "/correlationid/{value}/logs": "correlationid",
    "/correlationId/{value}/logs": "correlationid",
    "/entity/{value}/logs": "entityid",
    "/relationship/{value}/logs": "relationshipid",
    "/ercollection/{value}/logs": "ercollectionid",
    "/ercollection/logs": "ercollectionid",
}


@apollo_family
@requires_scope("apollo_read")
async def get_logs(request: web.Request) -> web.Response:
    path_filters = {}
    if "value" in request.match_info:
        resource = request.match_info.route.resource
        assert resource is not None  # a request matched a route of a resource
        canonical = resource.canonical
        name = next(v for form, v in PATH_FORMS.items() if canonical.endswith(form))
        path_filters[name] = storable(request.match_info["value"], name)
    query = LogQuery.parse(
        request.query,
        path_filters=path_filters,
        collection_header=request.headers.get("ercollectionid"),
        page_size_header=request.headers.get("PageSize"),
    )
    page = await page_asked(request, *query.binding, size=query.limit)
    records, paging = await search_logs(services(request).pool, principal(request).id, query, page)
    return apollo_response(request, records, paging=paging)


routes.get(LOGS_PATH)(get_logs)
for form in PATH_FORMS:
    routes.get("/apollo/status" + form)(get_logs)
    routes.get(form)(get_logs)
# Two doc pages write their URL with a double slash ({{HOST}}//...); a client copying them
# sends exactly that.
routes.get("/" + LOGS_PATH)(get_logs)
routes.get("//relationship/{value}/logs")(get_logs)


@routes.get("/apollo/status/{transaction_id}")
@apollo_family
@requires_scope("apollo_read")
async def get_transaction_status(request: web.Request) -> web.Response:
    transaction = storable(request.match_info["transaction_id"], "The transaction id")
    summary = await transaction_summary(services(request).pool, principal(request).id, transaction)
    return apollo_response(request, summary)
