"""A transaction's failed items with their reasons, and their retry as a new async batch."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_family,
    apollo_response,
    principal,
    requires_scope,
    services,
    transaction_id,
)
from gateway.keys import REQUEST_ID
from shared.er.failed import failed_items, retry
from shared.text import storable

routes = web.RouteTableDef()


@routes.get("/apollo/status/{transaction_id}/failed")
@apollo_family
@requires_scope("apollo_read")
async def get_failed(request: web.Request) -> web.Response:
    transaction = storable(request.match_info["transaction_id"], "The transaction id")
    items = await failed_items(services(request).pool, principal(request).id, transaction)
    return apollo_response(request, items)


@routes.post("/apollo/status/{transaction_id}/retry")
@apollo_family
@requires_scope("apollo_write")
async def post_retry(request: web.Request) -> web.Response:
    """202 with the new batch's job token and tracker; 404 when nothing failed."""
    transaction = storable(request.match_info["transaction_id"], "The transaction id")
    data = await retry(
        services(request), principal(request), transaction,
        transaction_id(request), request[REQUEST_ID],
    )  # fmt: skip
    message = f"{data['count']} failed items resubmitted as transaction {data['transactionId']}"
    return apollo_response(request, data, status=202, message=message)
