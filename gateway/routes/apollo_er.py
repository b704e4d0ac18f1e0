"""Apollo ER service: ER collections, their access lists and statistics, batch upserts.
Reads are in apollo_er_reads."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_response,
    async_header,
    idempotency_key,
    principal,
    read_json,
    requires_scope,
    services,
    transaction_id,
)
from gateway.keys import REQUEST_ID, TRANSACTION_ID
from gateway.routes.er_files import batch_body
from shared.er import acl, reads
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.batch_kinds import ENTITIES, RELATIONSHIPS, BatchKind
from shared.er.batches import (
    Submission,
    accept_async,
    accepted_json,
    parse_items,
    run_batch_here,
)
from shared.errors import BadRequest
from shared.text import storable

routes = web.RouteTableDef()
ER = "/apollo/er"
COLLECTION = ER + "/ercollections/{id}"


def header_collection(request: web.Request) -> str:
    value = request.headers.get("ercollectionid")
    if not value:
        raise BadRequest("The ercollectionid header is required")
    return value


async def collection(request: web.Request, name: str, minimum: Role) -> ErCollection:
    """The named collection, if the caller holds at least ``minimum`` on it (else 403)."""
    found = ErCollections(services(request).pool)
    return await found.require(principal(request).id, name, minimum)


@routes.post(ER + "/ercollections")
@requires_scope("apollo_admin")
async def register_collection(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest('The body must be {"erCollectionId", "schemaCollectionId"}')
    registered = await ErCollections(services(request).pool).register(
        principal(request).id, body.get("erCollectionId"), body.get("schemaCollectionId")
    )
    return apollo_response(request, registered.to_json(), status=201, message="Created")


@routes.get(ER + "/ercollections")
@requires_scope("apollo_read")
async def list_collections(request: web.Request) -> web.Response:
    mine = await ErCollections(services(request).pool).list_for(principal(request).id)
    return apollo_response(request, [c.to_json() for c in mine])


@routes.get(COLLECTION + "/acl")
@requires_scope("apollo_read")
async def get_acl(request: web.Request) -> web.Response:
    target = await collection(request, request.match_info["id"], Role.admin)
    return apollo_response(request, await acl.read_acl(services(request).pool, target))


@routes.put(COLLECTION + "/acl")
@requires_scope("apollo_write")
async def put_acl(request: web.Request) -> web.Response:
    grants = acl.parse_grants(await read_json(request))
    target = await collection(request, request.match_info["id"], Role.admin)
    pool, caller = services(request).pool, principal(request).id
    return apollo_response(request, await acl.replace_acl(pool, target, caller, grants))


@routes.get(COLLECTION + "/stats")
@requires_scope("apollo_read")
async def collection_stats(request: web.Request) -> web.Response:
    target = await collection(request, request.match_info["id"], Role.readonly)
    return apollo_response(request, await reads.collection_stats(services(request).pool, target))


CORRELATION_HEADERS = ("x-correlation-id", "correlationid")


def correlation_id(request: web.Request) -> str:
    """The client's ``x-correlation-id`` (the docs') or ``correlationid`` header, else this
    request's id."""
    sent = (request.headers.get(name) for name in CORRELATION_HEADERS)
    value = next((v for v in sent if v), None) or request[REQUEST_ID]
    return storable(value, "The correlation id header")[:200]


def batch_items(body: object) -> object:
    """The docs post a single object as often as a list: one object is a batch of one."""
    return [body] if isinstance(body, dict) else body


async def upsert(request: web.Request, kind: BatchKind) -> web.Response:
    """207 with every item's outcome, or with ``async: true`` 202 and the job's token."""
    name, is_async = header_collection(request), async_header(request)
    items = parse_items(batch_items(await batch_body(request)), kind, is_async)
    transaction = transaction_id(request)
    batch = Submission(
        principal(request), kind, name, items, transaction, correlation_id(request),
        await idempotency_key(request),
    )  # fmt: skip
    if not is_async:
        result = await run_batch_here(services(request), batch)
        # A replayed Idempotency-Key answers for the first call's transaction, envelope included.
        request[TRANSACTION_ID] = result["transactionId"]
        data = {"responses": result["responses"]}
        return apollo_response(request, data, status=207, message=result["message"])
    job = await accept_async(services(request), batch)
    # A replayed Idempotency-Key answers with the first call's job and transaction.
    first_transaction = request[TRANSACTION_ID] = job.request["transactionId"]
    data = accepted_json(services(request).settings.public_url, job.token, first_transaction)
    # The docs' message, naming the URL to follow; the job token stays in data.
    message = f"Request {job.token} is processed and can be tracked by URL {data['tracker']}"
    return apollo_response(request, data, status=202, message=message)


# /apollo/entities and /apollo/relationships: the URLs of the docs' "full object update" page.
@routes.post(ER + "/entities")
@routes.post("/apollo/entities")
@requires_scope("apollo_write")
async def upsert_entities(request: web.Request) -> web.Response:
    return await upsert(request, ENTITIES)


@routes.post(ER + "/relationships")
@routes.post("/apollo/relationships")
@requires_scope("apollo_write")
async def upsert_relationships(request: web.Request) -> web.Response:
    return await upsert(request, RELATIONSHIPS)
