"""Files uploaded into an ER collection, and the file-entity pages' reads of them
(``GET /apollo/entities/filename/{fileName or entityId}``)."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_response,
    principal,
    query_flag,
    requires_scope,
    services,
    transaction_id,
)
from gateway.routes.apollo_er import collection, correlation_id, header_collection
from gateway.routes.er_files import raw_body
from shared.er.access import Role
from shared.er.file_entities import Upload, file_entities, upload_file_entity
from shared.er.files import file_name, save_file
from shared.text import storable

routes = web.RouteTableDef()
DESCRIPTION_HEADER = "fileDescription"


@routes.put("/apollo/er/files/{name}")
@requires_scope("apollo_write")
async def upload(request: web.Request) -> web.Response:
    """Keep a file for a later import call naming it (201); a second upload replaces it. With
    an ``ercollectionid`` header the file is also an entity of that collection."""
    name = file_name(request.match_info["name"])
    content = await raw_body(request)
    quota = services(request).settings.upload_bytes_per_principal
    if "ercollectionid" not in request.headers:
        await save_file(services(request).pool, principal(request).id, name, content, quota)
        data = {"fileName": name, "size": len(content)}
        return apollo_response(request, data, status=201, message="Uploaded")
    description = storable(request.headers.get(DESCRIPTION_HEADER, ""), DESCRIPTION_HEADER)
    file_upload = Upload(
        principal(request), header_collection(request), name, content,
        request.headers.get("Content-Type"), description[:1000],
        transaction_id(request), correlation_id(request),
    )  # fmt: skip
    data = await upload_file_entity(services(request), file_upload, quota)
    return apollo_response(request, data, status=201, message="Uploaded")


# The pages' curl examples POST what their method line calls a GET: both are served.
@routes.get("/apollo/entities/filename/{name}")
@routes.post("/apollo/entities/filename/{name}")
@requires_scope("apollo_read")
async def get_file_entity(request: web.Request) -> web.Response:
    """The collection's file entities of this file name or entity id, as a list."""
    target = await collection(request, header_collection(request), Role.readonly)
    wanted = storable(request.match_info["name"], "The file name")
    system = query_flag(request, "includeSystemData", False)
    return apollo_response(request, await file_entities(services(request), target, wanted, system))
