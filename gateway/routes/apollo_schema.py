"""Apollo schema service: schema collections, type schemas, releases and sync."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.http import (
    apollo_response,
    idempotency_key,
    json_response,
    principal,
    query_flag,
    read_json,
    requires_scope,
    services,
    transaction_id,
)
from shared.er.text import holds_unstorable_text, storable
from shared.errors import BadRequest
from shared.releases.catalog import ReleaseCatalog
from shared.schemas import sync as sync_job
from shared.schemas.collections import SchemaCollections, collection_json
from shared.schemas.paging import PageRequest, page_request
from shared.schemas.typeschemas import TypeSchemas, item_json

routes = web.RouteTableDef()

PREFIX = "/apollo/schema"
TYPES = PREFIX + "/{schema_type:entitytypes|relationshiptypes}"
READ, ADMIN = "apollo_read", "apollo_admin"
ENVELOPE_KEYS = ("status", "transactionId", "paging", "data")


def catalog(request: web.Request) -> ReleaseCatalog:
    svc = services(request)
    return ReleaseCatalog(svc.pool, sync_job.cache_dir(svc.settings))


def collections(request: web.Request) -> SchemaCollections:
    return SchemaCollections(services(request).pool, catalog(request))


def type_schemas(request: web.Request) -> TypeSchemas:
    return TypeSchemas(services(request).pool, catalog(request))


def params(request: web.Request) -> dict[str, str]:
    """The path's parameters; text Postgres cannot store (NUL, a lone surrogate) is a 400."""
    return {name: storable(value, f"'{name}'") for name, value in request.match_info.items()}


async def read_body(request: web.Request) -> Any:
    body = await read_json(request)
    if holds_unstorable_text(body):
        raise BadRequest("The body holds text that cannot be stored (NUL or a lone surrogate)")
    return body


async def page(request: web.Request, *query: object) -> PageRequest:
    """The page asked for; its token must have been issued for this same query."""
    token = request.headers.get("continuationToken")
    return await page_request(services(request).pool, token, request.query.get("size"), *query)


def items_response(request: web.Request, rows: list, paging: dict) -> web.Response:
    system = query_flag(request, "includeSystemData")
    return apollo_response(request, [item_json(r, system) for r in rows], paging=paging)


def wants_async(request: web.Request) -> bool:
    value = request.headers.get("async", "false").strip().lower()
    if value not in ("true", "false"):
        raise BadRequest("The 'async' header must be true or false")
    return value == "true"


# Schema collections --------------------------------------------------------------------------


@routes.post(PREFIX + "/schemacollections")
@requires_scope(ADMIN)
async def create_collection(request: web.Request) -> web.Response:
    created = await collections(request).create(await read_body(request), principal(request))
    return apollo_response(request, created, status=201, message="Schema collection created")


@routes.get(PREFIX + "/schemacollections")
@requires_scope(READ)
async def list_collections(request: web.Request) -> web.Response:
    found, paging = await collections(request).page(await page(request, "collections"))
    return apollo_response(request, found, paging=paging)


@routes.get(PREFIX + "/schemacollections/{collection_id}")
@requires_scope(READ)
async def get_collection(request: web.Request) -> web.Response:
    row = await collections(request).get(params(request)["collection_id"])
    return apollo_response(request, collection_json(row))


@routes.get(PREFIX + "/schemacollections/{collection_id}/stats")
@requires_scope(READ)
async def collection_stats(request: web.Request) -> web.Response:
    stats = await collections(request).stats(params(request)["collection_id"])
    return apollo_response(request, stats)


@routes.delete(PREFIX + "/schemacollections/{collection_id}")
@requires_scope(ADMIN)
async def delete_collection(request: web.Request) -> web.Response:
    collection_id = params(request)["collection_id"]
    await collections(request).delete(collection_id)
    return apollo_response(request, {"schemaCollectionId": collection_id, "deleted": True})


# Type schemas: collection-wide lists first, so their paths win over /{T}/{type_id}/... -----


@routes.get(TYPES + "/schemacollections/{collection_id}")
@requires_scope(READ)
async def list_in_collection(request: web.Request) -> web.Response:
    info = params(request)
    schema_type, collection_id = info["schema_type"], info["collection_id"]
    page_asked = await page(request, "in-collection", schema_type, collection_id.lower())
    rows, paging = await type_schemas(request).in_collection(schema_type, collection_id, page_asked)
    return items_response(request, rows, paging)


@routes.get(PREFIX + "/entitytypes/schemacollections/{collection_id}/tags/{tag}")
@requires_scope(READ)
async def list_by_tag(request: web.Request) -> web.Response:
    info = params(request)
    collection_id, tag = info["collection_id"], info["tag"]
    page_asked = await page(request, "tagged", collection_id.lower(), tag.lower())
    rows, paging = await type_schemas(request).tagged(collection_id, tag, page_asked)
    return items_response(request, rows, paging)


@routes.post(TYPES)
@requires_scope(ADMIN)
async def bulk_upsert(request: web.Request) -> web.Response:
    outcome = await type_schemas(request).bulk_upsert(
        storable(request.headers.get("schemaCollectionId", ""), "The schemaCollectionId header"),
        request.match_info["schema_type"],
        await read_body(request),
        principal(request),
    )
    status = 207 if outcome.failed else 200
    return apollo_response(request, outcome.as_json(), status=status, message=outcome.reason)


@routes.get(PREFIX + "/relationshiptypes/{type_id}/entitytypes")
@requires_scope(READ)
async def allowed_pairs(request: web.Request) -> web.Response:
    type_id = params(request)["type_id"]
    found, paging = await type_schemas(request).pairs(
        type_id, await page(request, "pairs", type_id)
    )
    return apollo_response(request, found, paging=paging)


@routes.get(PREFIX + "/entitytypes/{type_id}/relationshiptypes")
@requires_scope(READ)
async def relationship_types_of(request: web.Request) -> web.Response:
    type_id = params(request)["type_id"]
    page_asked = await page(request, "relationships-of", type_id)
    found, paging = await type_schemas(request).relationship_types_of(type_id, page_asked)
    return apollo_response(request, found, paging=paging)


@routes.get(TYPES + "/{type_id}")
@requires_scope(READ)
async def get_latest(request: web.Request) -> web.Response:
    info = params(request)
    row = await type_schemas(request).get(info["schema_type"], info["type_id"])
    return apollo_response(request, item_json(row, query_flag(request, "includeSystemData")))


@routes.get(TYPES + "/{type_id}/versions")
@requires_scope(READ)
async def list_versions(request: web.Request) -> web.Response:
    info = params(request)
    schema_type, type_id = info["schema_type"], info["type_id"]
    page_asked = await page(request, "versions", schema_type, type_id)
    rows, paging = await type_schemas(request).versions(schema_type, type_id, page_asked)
    return items_response(request, rows, paging)


@routes.get(TYPES + "/{type_id}/versions/{version}")
@requires_scope(READ)
async def get_version(request: web.Request) -> web.Response:
    info = params(request)
    row = await type_schemas(request).get(info["schema_type"], info["type_id"], info["version"])
    return apollo_response(request, item_json(row, query_flag(request, "includeSystemData")))


@routes.delete(TYPES + "/{type_id}")
@requires_scope(ADMIN)
async def delete_type(request: web.Request) -> web.Response:
    info = params(request)
    await type_schemas(request).delete(info["schema_type"], info["type_id"])
    return apollo_response(request, {"id": info["type_id"], "active": False})


# Sync and releases ---------------------------------------------------------------------------


@routes.post(PREFIX + "/sync")
@requires_scope(ADMIN)
async def sync(request: web.Request) -> web.Response:
    svc, who = services(request), principal(request)
    body = await read_body(request)
    job_request = await sync_job.prepare(collections(request), body, transaction_id(request))
    idempotency = await idempotency_key(request)
    if not wants_async(request):
        result = await svc.jobs.run_and_wait(
            sync_job.KIND, who, job_request, idempotency=idempotency
        )
        # The stored result is jsonb (keys in Postgres's order): answer in the envelope's order.
        return json_response({key: result[key] for key in ENVELOPE_KEYS})
    job = await svc.jobs.submit(sync_job.KIND, who, job_request, idempotency=idempotency)
    accepted = {"token": job.token, "statusUrl": f"{svc.settings.public_url}/async/get/{job.token}"}
    return apollo_response(request, accepted, status=202, message="Sync accepted")


@routes.post(PREFIX + "/releases")
@requires_scope(ADMIN)
async def publish_release(request: web.Request) -> web.Response:
    body = await read_body(request)
    summary, created = await catalog(request).publish(body, principal(request).id)
    message = "Release published" if created else "Release already published"
    return apollo_response(request, summary, status=201 if created else 200, message=message)


@routes.get(PREFIX + "/releases")
@requires_scope(READ)
async def list_releases(request: web.Request) -> web.Response:
    return apollo_response(request, await catalog(request).list())
