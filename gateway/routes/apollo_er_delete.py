"""Apollo ER deletes: ``DELETE /apollo/er/entities/{id}`` (``?cascade=true`` also deletes the
relationships that reference it) and ``DELETE /apollo/er/relationships/{id}``."""

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
from gateway.routes.apollo_er import ER, collection, correlation_id, header_collection
from shared.er.access import Role
from shared.er.delete import Deleted, Deletion, delete_entity, delete_relationship, deleted_json
from shared.statuslog.query import batch_tracker
from shared.text import storable

routes = web.RouteTableDef()


async def deletion(request: web.Request) -> Deletion:
    target = await collection(request, header_collection(request), Role.readwrite)
    return Deletion(
        principal(request).id,
        target,
        storable(request.match_info["id"], "The id"),
        transaction_id(request),
        correlation_id(request),
    )


def answer(request: web.Request, deleted: list[Deleted], noun: str) -> web.Response:
    tracker = batch_tracker(services(request).settings.public_url, transaction_id(request))
    message = f"Total number of {noun} Deleted:  {len(deleted)}."
    return apollo_response(request, deleted_json(deleted, tracker), message=message)


@routes.delete(ER + "/entities/{id}")
@requires_scope("apollo_write")
async def delete_entity_route(request: web.Request) -> web.Response:
    """Delete an entity

    Refused (409, listing them) while relationships reference it, unless `cascade=true`, which
    deletes them too. Each deleted item gets a `Delete` status-log record."""
    cascade = query_flag(request, "cascade")
    deleted = await delete_entity(services(request), await deletion(request), cascade)
    return answer(request, deleted, "Items")


@routes.delete(ER + "/relationships/{id}")
@requires_scope("apollo_write")
async def delete_relationship_route(request: web.Request) -> web.Response:
    """Delete a relationship, with a `Delete` status-log record"""
    deleted = await delete_relationship(services(request), await deletion(request))
    return answer(request, deleted, "Relationships")
