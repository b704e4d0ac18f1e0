"""Apollo schema service: schema collections, their access lists, sync, releases, invalidate.

Type schemas are in apollo_schema_types.py, rules, metadata, hierarchy, validation and samples
in apollo_schema_rules.py; every path is served under each documented base (schema_common).
"""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_response,
    async_header,
    idempotency_key,
    json_response,
    principal,
    requires_scope,
    services,
    transaction_id,
)
from gateway.routes.schema_common import (
    ADMIN,
    READ,
    caller,
    catalog,
    collections,
    page,
    params,
    read_body,
    route,
)
from shared.errors import BadRequest
from shared.schemas import acl
from shared.schemas import sync as sync_job
from shared.schemas.collections import collection_json

routes = web.RouteTableDef()

ENVELOPE_KEYS = ("status", "transactionId", "paging", "data")
COLLECTION = "/schemacollections/{collection_id}"
# invalidateCache's documented types.
CACHE_TYPES = (
    "entitytypes",
    "relationshiptypes",
    "messagetypes",
    "relationshiptypesrule",
    "eventtypes",
    "schemacollections",
)


# Schema collections --------------------------------------------------------------------------


@route(routes, "POST", "/schemacollections")
@requires_scope(ADMIN)
async def create_collection(request: web.Request) -> web.Response:
    created = await collections(request).create(await read_body(request), caller(request))
    return apollo_response(request, created)


@route(routes, "GET", "/schemacollections")
@requires_scope(READ)
async def list_collections(request: web.Request) -> web.Response:
    found, paging = await collections(request).page(await page(request, "collections"))
    return apollo_response(request, found, paging=paging)


@route(routes, "GET", COLLECTION)
@requires_scope(READ)
async def get_collection(request: web.Request) -> web.Response:
    row = await collections(request).get(params(request)["collection_id"])
    return apollo_response(request, collection_json(row))


@route(routes, "GET", COLLECTION + "/stats")
@requires_scope(READ)
async def collection_stats(request: web.Request) -> web.Response:
    stats = await collections(request).stats(params(request)["collection_id"])
    return apollo_response(request, stats)


@route(routes, "DELETE", COLLECTION)
@requires_scope(ADMIN)
async def delete_collection(request: web.Request) -> web.Response:
    deleted = await collections(request).delete(params(request)["collection_id"], caller(request))
    return apollo_response(request, deleted)


@route(routes, "GET", COLLECTION + "/acl")
@requires_scope(READ)
async def get_acl(request: web.Request) -> web.Response:
    row = await collections(request).writable(
        params(request)["collection_id"], principal(request).id, acl.Role.admin
    )
    return apollo_response(request, await acl.read_acl(services(request).pool, row.id))


@route(routes, "PUT", COLLECTION + "/acl")
@requires_scope(ADMIN)
async def put_acl(request: web.Request) -> web.Response:
    row = await collections(request).get(params(request)["collection_id"])
    grants = acl.parse_grants(await read_body(request))
    pool, who = services(request).pool, principal(request).id
    return apollo_response(request, await acl.replace_acl(pool, row.id, who, grants))


# Sync, releases, caches ----------------------------------------------------------------------


@route(routes, "POST", "/sync")
@requires_scope(ADMIN)
async def sync(request: web.Request) -> web.Response:
    svc, who = services(request), principal(request)
    body = await read_body(request)
    job_request = await sync_job.prepare(collections(request), body, transaction_id(request))
    await collections(request).writable(job_request["schemaCollectionId"], who.id, acl.Role.editor)
    idempotency = await idempotency_key(request)
    if not async_header(request):
        result = await svc.jobs.run_and_wait(
            sync_job.KIND, who, job_request, idempotency=idempotency
        )
        # The stored result is jsonb (keys in Postgres's order): answer in the envelope's order.
        return json_response({key: result[key] for key in ENVELOPE_KEYS})
    job = await svc.jobs.submit(sync_job.KIND, who, job_request, idempotency=idempotency)
    accepted = {"token": job.token, "statusUrl": f"{svc.settings.public_url}/async/get/{job.token}"}
    return apollo_response(request, accepted, status=202, message="Sync accepted")


@route(routes, "POST", "/releases")
@requires_scope(ADMIN)
async def publish_release(request: web.Request) -> web.Response:
    body = await read_body(request)
    summary, created = await catalog(request).publish(body, principal(request).id)
    message = "Release published" if created else "Release already published"
    return apollo_response(request, summary, status=201 if created else 200, message=message)


@route(routes, "GET", "/releases")
@requires_scope(READ)
async def list_releases(request: web.Request) -> web.Response:
    return apollo_response(request, await catalog(request).list())


@route(routes, "PUT", "/invalidate")
@requires_scope(ADMIN)
async def invalidate(request: web.Request) -> web.Response:
    """Every read goes to PostgreSQL and validators are cached by content hash, so no cache can
    be stale: the call only checks its ``type`` and answers true."""
    kind = request.query.get("type")
    if kind is not None and kind.lower() not in CACHE_TYPES:
        raise BadRequest(f"Invalid cache type '{kind}'; types are {', '.join(CACHE_TYPES)}")
    return apollo_response(request, True)
