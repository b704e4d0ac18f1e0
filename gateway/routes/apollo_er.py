"""Apollo ER service: ER collections and their access lists, batch upserts, reads."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_response,
    idempotency_key,
    principal,
    read_json,
    requires_scope,
    services,
    transaction_id,
)
from gateway.keys import REQUEST_ID
from shared.er import acl, reads
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.batches import (
    ENTITIES,
    RELATIONSHIPS,
    BatchKind,
    Submission,
    accept_async,
    accepted_json,
    parse_items,
    run_sync,
)
from shared.er.paging import page_size
from shared.er.text import storable
from shared.errors import BadRequest

routes = web.RouteTableDef()
ER = "/apollo/er"
COLLECTION = ER + "/ercollections/{id}"


def header_collection(request: web.Request) -> str:
    value = request.headers.get("ercollectionid")
    if not value:
        raise BadRequest("The ercollectionid header is required")
    return value


def async_header(request: web.Request) -> bool:
    value = request.headers.get("async", "false").strip().lower()
    if value not in ("true", "false"):
        raise BadRequest("The async header must be true or false")
    return value == "true"


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


def correlation_id(request: web.Request) -> str:
    """The client's ``correlationid`` header, else this request's id."""
    value = request.headers.get("correlationid") or request[REQUEST_ID]
    return storable(value, "The correlationid header")[:200]


async def upsert(request: web.Request, kind: BatchKind) -> web.Response:
    """207 with every item's outcome, or with ``async: true`` 202 and the job's token."""
    name, is_async = header_collection(request), async_header(request)
    items = parse_items(await read_json(request), kind, is_async)
    transaction = transaction_id(request)
    batch = Submission(
        principal(request), kind, name, items, transaction, correlation_id(request),
        await idempotency_key(request),
    )  # fmt: skip
    if not is_async:
        result = await run_sync(services(request), batch)
        data = {"responses": result["responses"]}
        return apollo_response(request, data, status=207, message=result["message"])
    job = await accept_async(services(request), batch)
    # A replayed Idempotency-Key answers with the first call's job and transaction.
    first_transaction = job.request["transactionId"]
    data = accepted_json(services(request).settings.public_url, job.token, first_transaction)
    message = f"Accepted {len(items)} {kind.plural.lower()} for processing"
    return apollo_response(request, data, status=202, message=message)


@routes.post(ER + "/entities")
@requires_scope("apollo_write")
async def upsert_entities(request: web.Request) -> web.Response:
    return await upsert(request, ENTITIES)


@routes.post(ER + "/relationships")
@requires_scope("apollo_write")
async def upsert_relationships(request: web.Request) -> web.Response:
    return await upsert(request, RELATIONSHIPS)


async def list_page(request: web.Request, table: reads.ItemTable, type_param: str) -> web.Response:
    target = await collection(request, header_collection(request), Role.readonly)
    page, paging = await reads.list_items(
        services(request).pool,
        table,
        target,
        storable(request.query.get(type_param, ""), type_param) or None,
        page_size(request.query.get("size")),
        request.headers.get("continuationToken"),
    )
    return apollo_response(request, page, paging=paging)


async def one_item(request: web.Request, table: reads.ItemTable) -> web.Response:
    target = await collection(request, header_collection(request), Role.readonly)
    item_id = storable(request.match_info["id"], "The id")
    return apollo_response(
        request, await reads.get_item(services(request).pool, table, target, item_id)
    )


@routes.get(ER + "/entities")
@requires_scope("apollo_read")
async def list_entities(request: web.Request) -> web.Response:
    return await list_page(request, reads.ENTITIES, "entityType")


@routes.get(ER + "/relationships")
@requires_scope("apollo_read")
async def list_relationships(request: web.Request) -> web.Response:
    return await list_page(request, reads.RELATIONSHIPS, "relationshipType")


@routes.get(ER + "/entities/{id}")
@requires_scope("apollo_read")
async def get_entity(request: web.Request) -> web.Response:
    return await one_item(request, reads.ENTITIES)


@routes.get(ER + "/relationships/{id}")
@requires_scope("apollo_read")
async def get_relationship(request: web.Request) -> web.Response:
    return await one_item(request, reads.RELATIONSHIPS)
