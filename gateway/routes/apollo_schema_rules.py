"""Apollo schema service: rules, Brick metadata, hierarchy, validation and sample objects."""

from __future__ import annotations

from aiohttp import web

from gateway.http import apollo_response, principal, query_flag, requires_scope, services
from gateway.routes.schema_common import (
    ADMIN,
    ALL_TYPES,
    READ,
    collections,
    header,
    page,
    params,
    read_body,
    route,
    rules,
    validation,
)
from shared.schemas import hierarchy
from shared.schemas.acl import Role

routes = web.RouteTableDef()

HIERARCHY = "/entitytypes/schemacollections/{collection_id}/hierarchy"
# The sample pages spell relationship types "relationtypes": both spellings are served.
SAMPLE_TYPES = "{schema_type:entitytypes|relationshiptypes|relationtypes|messagetypes|eventtypes}"
SAMPLE = "/" + SAMPLE_TYPES + "/{type_id}"


def sample_type(request: web.Request) -> str:
    schema_type = request.match_info["schema_type"]
    return "relationshiptypes" if schema_type == "relationtypes" else schema_type


@route(routes, "GET", "/relationshiptypes/{type_id}/entitytypes")
@requires_scope(READ)
async def allowed_pairs(request: web.Request) -> web.Response:
    type_id = params(request)["type_id"]
    found, paging = await rules(request).pairs(type_id, await page(request, "pairs", type_id))
    return apollo_response(request, found, paging=paging)


@route(routes, "GET", "/entitytypes/{type_id}/relationshiptypes")
@requires_scope(READ)
async def relationship_types_of(request: web.Request) -> web.Response:
    type_id = params(request)["type_id"]
    source = query_flag(request, "includeSource", default=True)
    destination = query_flag(request, "includeDestination", default=True)
    asked = await page(request, "relationships-of", type_id, source, destination)
    found, paging = await rules(request).relationship_types_of(
        type_id, asked, source=source, destination=destination
    )
    return apollo_response(request, found, paging=paging)


@route(routes, "GET", "/entitytypes/{type_id}/metadata")
@requires_scope(READ)
async def brick_metadata(request: web.Request) -> web.Response:
    return apollo_response(request, await rules(request).brick_metadata(params(request)["type_id"]))


@route(routes, "GET", HIERARCHY)
@requires_scope(READ)
async def get_hierarchy(request: web.Request) -> web.Response:
    row = await collections(request).get(params(request)["collection_id"])
    return apollo_response(request, await hierarchy.hierarchy(services(request).pool, row.id))


@route(routes, "POST", HIERARCHY)
@requires_scope(ADMIN)
async def post_hierarchy(request: web.Request) -> web.Response:
    row = await collections(request).writable(
        params(request)["collection_id"], principal(request).id, Role.editor
    )
    body = await read_body(request)
    return apollo_response(request, await hierarchy.merge(services(request).pool, row.id, body))


@route(routes, "POST", "/" + ALL_TYPES + "/validate")
@requires_scope(READ)
async def validate(request: web.Request) -> web.Response:
    schema_type = params(request)["schema_type"]
    body = await read_body(request)
    answer = await validation(request).validate(schema_type, body, header(request, "schemaVer"))
    return apollo_response(request, answer)


@route(routes, "POST", "/relationshiptypes/validate/ontology")
@requires_scope(READ)
async def validate_ontology(request: web.Request) -> web.Response:
    body = await read_body(request)
    answer = await validation(request).ontology(body, header(request, "schemaVer"))
    return apollo_response(request, answer)


@route(routes, "POST", SAMPLE + "/sample")
@route(routes, "POST", SAMPLE + "/versions/{version}/sample")
@requires_scope(ADMIN)
async def save_sample(request: web.Request) -> web.Response:
    info = params(request)
    message = await validation(request).save_sample(
        sample_type(request),
        info["type_id"],
        info.get("version"),
        await read_body(request),
        principal(request).id,
    )
    return apollo_response(request, message)


@route(routes, "GET", SAMPLE + "/sample")
@route(routes, "GET", SAMPLE + "/versions/{version}/sample")
@requires_scope(READ)
async def get_sample(request: web.Request) -> web.Response:
    info = params(request)
    found = await validation(request).sample(
        sample_type(request), info["type_id"], info.get("version")
    )
    return apollo_response(request, found)
