"""Failed ER items across transactions (the failures workbench's API): grouped by reason, one
reason's items, and their retry as new async batches."""

from __future__ import annotations

import re

from aiohttp import web

from gateway.http import apollo_response, principal, read_json, requires_scope, services
from gateway.keys import REQUEST_ID
from shared.er import failures
from shared.errors import BadRequest, NotFound
from shared.text import storable

routes = web.RouteTableDef()
REASON_KEY = re.compile(r"^[0-9a-f]{16}$")


def reason_key(request: web.Request) -> str:
    key = request.match_info["reason_key"]
    if not REASON_KEY.match(key):
        raise NotFound("No failure group has that key (16 lower-case hex digits)")
    return key


@routes.get("/apollo/failures")
@requires_scope("apollo_read")
async def get_groups(request: web.Request) -> web.Response:
    return apollo_response(
        request, await failures.groups(services(request).pool, principal(request))
    )


@routes.get("/apollo/failures/{reason_key}")
@requires_scope("apollo_read")
async def get_group(request: web.Request) -> web.Response:
    key = reason_key(request)
    found = await failures.items(services(request).pool, principal(request), key)
    return apollo_response(request, found)


@routes.post("/apollo/failures/retry")
@requires_scope("apollo_write")
async def post_selected_retry(request: web.Request) -> web.Response:
    """202: the items a failures file names, ``{"items": [{transactionId, id}]}``."""
    body = await read_json(request)
    listed = body.get("items") if isinstance(body, dict) else None
    if not isinstance(listed, list) or not all(valid_key(k) for k in listed):
        raise BadRequest('The body is {"items": [{"transactionId": text, "id": text}]}')
    keys = [(storable(k["transactionId"], "A transaction id"), k["id"]) for k in listed]
    data = await failures.retry_selected(
        services(request), principal(request), keys, request[REQUEST_ID]
    )
    return apollo_response(request, data, status=202, message=resubmitted(data))


def valid_key(key: object) -> bool:
    return (
        isinstance(key, dict)
        and isinstance(key.get("transactionId"), str)
        and isinstance(key.get("id"), str)
    )


@routes.post("/apollo/failures/{reason_key}/retry")
@requires_scope("apollo_write")
async def post_group_retry(request: web.Request) -> web.Response:
    """202: every item of the reason not retried yet, sent again (one batch per collection)."""
    key = reason_key(request)
    data = await failures.retry_group(
        services(request), principal(request), key, request[REQUEST_ID]
    )
    return apollo_response(request, data, status=202, message=resubmitted(data))


@routes.post("/apollo/status/{transaction_id}/failed/{position}/retry")
@requires_scope("apollo_write")
async def post_one_retry(request: web.Request) -> web.Response:
    transaction = storable(request.match_info["transaction_id"], "The transaction id")
    position = request.match_info["position"]
    if not position.isdigit() or len(position) > 9:
        raise BadRequest("The item's position is a whole number")
    data = await failures.retry_one(
        services(request), principal(request), transaction, int(position), request[REQUEST_ID]
    )
    return apollo_response(request, data, status=202, message=resubmitted(data))


def resubmitted(data: dict[str, object]) -> str:
    return f"{data['count']} failed items resubmitted as transaction {data['transactionId']}"
