"""Apollo schema service: type schemas (entity, relationship, message and event types)."""

from __future__ import annotations

from aiohttp import web

from gateway.http import apollo_response, requires_scope
from gateway.routes.schema_common import (
    ADMIN,
    ALL_TYPES,
    READ,
    caller,
    header,
    item_response,
    items_response,
    page,
    params,
    read_body,
    route,
    type_lists,
    type_schemas,
)
from shared.schemas.lists import state_of
from shared.schemas.sysdata import type_sys_data

routes = web.RouteTableDef()

IN_COLLECTION = "/" + ALL_TYPES + "/schemacollections/{collection_id}"
ONE = "/" + ALL_TYPES + "/{type_id}"


# Lists over a collection or a state first, so their paths win over /{T}/{type_id}/... --------


@route(routes, "GET", IN_COLLECTION)
@requires_scope(READ)
async def list_in_collection(request: web.Request) -> web.Response:
    info, state = params(request), state_of(request.query.get("state"))
    schema_type, collection_id = info["schema_type"], info["collection_id"]
    asked = await page(request, "in-collection", schema_type, collection_id.lower(), state)
    rows, paging = await type_lists(request).in_collection(schema_type, collection_id, state, asked)
    return items_response(request, rows, paging)


@route(routes, "GET", IN_COLLECTION + "/titles")
@requires_scope(READ)
async def list_titles(request: web.Request) -> web.Response:
    info = params(request)
    titles = await type_lists(request).titles(info["schema_type"], info["collection_id"])
    return apollo_response(request, titles)


@route(routes, "GET", "/entitytypes/schemacollections/{collection_id}/tags/{tag}")
@requires_scope(READ)
async def list_by_tag(request: web.Request) -> web.Response:
    info = params(request)
    collection_id, tag = info["collection_id"], info["tag"]
    asked = await page(request, "tagged", collection_id.lower(), tag.lower())
    rows, paging = await type_lists(request).tagged(collection_id, tag, asked)
    return items_response(request, rows, paging)


@route(routes, "GET", "/" + ALL_TYPES + "/state/{state}")
@requires_scope(READ)
async def list_in_state(request: web.Request) -> web.Response:
    info = params(request)
    schema_type, state = info["schema_type"], state_of(info["state"])
    assert state is not None  # the path names one
    asked = await page(request, "state", schema_type, state)
    ids, paging = await type_lists(request).ids_in_state(schema_type, state, asked)
    return apollo_response(request, ids, paging=paging)


@route(routes, "GET", "/" + ALL_TYPES)
@requires_scope(READ)
async def list_all(request: web.Request) -> web.Response:
    schema_type = params(request)["schema_type"]
    asked = await page(request, "all", schema_type)
    rows, paging = await type_lists(request).all_of_type(schema_type, None, asked)
    return items_response(request, rows, paging)


@route(routes, "POST", "/" + ALL_TYPES)
@requires_scope(ADMIN)
async def create_schemas(request: web.Request) -> web.Response:
    """createSchema: 201 all written, 206 some failed, 422 all failed."""
    outcome = await type_schemas(request).bulk_upsert(
        header(request, "schemaCollectionId"),
        request.match_info["schema_type"],
        await read_body(request),
        caller(request),
    )
    answer = outcome.as_json(outcome.posted_reason)
    status = {"success": 201, "partial_success": 206, "failed": 422}[outcome.status]
    return apollo_response(request, answer, status=status, message=outcome.status)


# One type schema ------------------------------------------------------------------------------


@route(routes, "GET", ONE)
@requires_scope(READ)
async def get_latest(request: web.Request) -> web.Response:
    info = params(request)
    return item_response(
        request, await type_schemas(request).get(info["schema_type"], info["type_id"])
    )


@route(routes, "GET", ONE + "/systemdata")
@requires_scope(READ)
async def get_system_data(request: web.Request) -> web.Response:
    info = params(request)
    row = await type_schemas(request).get(info["schema_type"], info["type_id"])
    return apollo_response(request, {"sysData": type_sys_data(row)})


@route(routes, "GET", ONE + "/versions")
@requires_scope(READ)
async def list_versions(request: web.Request) -> web.Response:
    info = params(request)
    schema_type, type_id = info["schema_type"], info["type_id"]
    asked = await page(request, "versions", schema_type, type_id)
    rows, paging = await type_lists(request).versions(schema_type, type_id, asked)
    return items_response(request, rows, paging)


@route(routes, "GET", ONE + "/versions/{version}")
@requires_scope(READ)
async def get_version(request: web.Request) -> web.Response:
    info = params(request)
    row = await type_schemas(request).get(info["schema_type"], info["type_id"], info["version"])
    return item_response(request, row)


@route(routes, "DELETE", ONE)
@requires_scope(ADMIN)
async def delete_type(request: web.Request) -> web.Response:
    info = params(request)
    message = await type_schemas(request).delete(
        info["schema_type"], info["type_id"], caller(request)
    )
    return apollo_response(request, message)


@route(routes, "PUT", ONE + "/state/publish")
@requires_scope(ADMIN)
async def publish(request: web.Request) -> web.Response:
    info = params(request)
    published = await type_schemas(request).publish(
        info["schema_type"], info["type_id"], caller(request)
    )
    return apollo_response(request, published)
