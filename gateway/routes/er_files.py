"""Uploads for the Apollo file-import calls, and the body of a batch that names a file (the
upload itself is in er_file_entities: with an ``ercollectionid`` header it is an entity)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.http import apollo_response, principal, read_json, requires_scope, services
from shared.er.files import delete_file, file_content, file_name, items_of
from shared.errors import PayloadTooLarge

routes = web.RouteTableDef()
FILE_HEADER = "fileName"


async def raw_body(request: web.Request) -> bytes:
    limit = services(request).settings.max_body_bytes
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"The request body is over the {limit} byte limit") from exc


async def batch_body(request: web.Request) -> Any:
    """A batch's items: the JSON body, or with a ``fileName`` header the file's."""
    name = request.headers.get(FILE_HEADER)
    if name is None:
        return await read_json(request)
    name = file_name(name)
    content = await file_content(
        services(request).pool, principal(request).id, name, await raw_body(request)
    )
    return items_of(name, content, csv=request.query.get("v") == "1.1")


@routes.delete("/apollo/er/files/{name}")
@requires_scope("apollo_write")
async def delete_upload(request: web.Request) -> web.Response:
    """Delete a kept upload (it no longer counts toward the principal's stored bytes)"""
    name = file_name(request.match_info["name"])
    await delete_file(services(request).pool, principal(request).id, name)
    return apollo_response(request, {"fileName": name}, message="Deleted")
