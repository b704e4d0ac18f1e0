"""An ER collection as a Brick model: its types' classes and relations (for importers) and the
collection itself streamed as Turtle."""

from __future__ import annotations

from aiohttp import web

from gateway.http import apollo_response, principal, requires_scope, services
from shared.er.access import ErCollections, Role
from shared.er.brick import brick_types, turtle

routes = web.RouteTableDef()
BRICK = "/apollo/er/ercollections/{id}/brick"


async def readable(request: web.Request):  # type: ignore[no-untyped-def]
    found = ErCollections(services(request).pool)
    return await found.require(principal(request).id, request.match_info["id"], Role.readonly)


@routes.get(BRICK + "/types")
@requires_scope("apollo_read")
async def types(request: web.Request) -> web.Response:
    """Each current entity type's Brick class and each relationship type's relation and pairs."""
    collection = await readable(request)
    return apollo_response(
        request, (await brick_types(services(request).pool, collection)).to_json()
    )


@routes.get(BRICK)
@requires_scope("apollo_read")
async def export(request: web.Request) -> web.StreamResponse:
    """The collection as a Brick graph in Turtle, streamed page by page."""
    collection = await readable(request)
    pieces = turtle(services(request).pool, collection)
    first = await anext(pieces)  # errors before the first byte still get a JSON answer
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/turtle; charset=utf-8",
            "Content-Disposition": f'inline; filename="{collection.id}.ttl"',
        }
    )
    await response.prepare(request)
    await response.write(first.encode())
    async for piece in pieces:
        await response.write(piece.encode())
    await response.write_eof()
    return response
