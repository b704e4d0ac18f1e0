"""Apollo ER reads: lists (with the docs' OData $filter / $orderby), one item as a one-element
list, item versions, each also under the type-scoped paths of the docs."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from gateway.http import (
    apollo_family,
    apollo_response,
    json_response,
    page_asked,
    query_flag,
    requires_scope,
    services,
)
from gateway.routes.apollo_er import ER, collection, header_collection
from shared.er import reads
from shared.er.access import Role
from shared.er.filters import parse_options
from shared.er.tables import ENTITIES, RELATIONSHIPS, ItemTable
from shared.er.views import ItemView
from shared.paging import TOKEN_HEADER
from shared.text import storable

routes = web.RouteTableDef()
# Type-scoped paths: /entitytypes/{type}/entities, /relationshiptypes/{type}/relationships.
SCOPED = {
    ENTITIES: "/entitytypes/{type}/entities",
    RELATIONSHIPS: "/relationshiptypes/{type}/relationships",
}
TYPE_PARAMS = {ENTITIES: "entityType", RELATIONSHIPS: "relationshipType"}


async def view_of(request: web.Request, table: ItemTable, system: bool = False) -> ItemView:
    target = await collection(request, header_collection(request), Role.readonly)
    system = query_flag(request, "includeSystemData", system)
    return ItemView(table, target, system, v12=request.query.get("v") == "1.2")


def type_of(request: web.Request, table: ItemTable) -> str | None:
    """The path's type, else the ``entityType`` / ``relationshipType`` query parameter."""
    value = request.match_info.get("type") or request.query.get(TYPE_PARAMS[table], "")
    return storable(value, "The type id") or None


def item_id(request: web.Request) -> str:
    return storable(request.match_info["id"], "The id")


async def list_items(request: web.Request, table: ItemTable) -> web.Response:
    view, type_id = await view_of(request, table), type_of(request, table)
    options = parse_options(request.query, 3, geo=table is ENTITIES)
    page = await page_asked(request, "er", table.table, view.collection.id, type_id, options.text)
    items, paging = await reads.list_items(pool(request), view, type_id, options, page)
    return apollo_response(request, items, paging=paging)


async def one_item(request: web.Request, table: ItemTable) -> web.Response:
    view = await view_of(request, table)
    found = await reads.get_item(pool(request), view, item_id(request), type_of(request, table))
    return apollo_response(request, found)


async def versions(request: web.Request, table: ItemTable) -> web.Response:
    # The docs' versions carry sysData (its version number tells them apart) unless refused.
    view, wanted = await view_of(request, table, system=True), item_id(request)
    page = await page_asked(request, "er-versions", table.table, view.collection.id, wanted)
    found, paging = await reads.item_versions(
        pool(request), view, wanted, page, type_of(request, table)
    )
    if not request.path.startswith("/api/"):
        return apollo_response(request, found, paging=paging)
    # The docs' /api/.../versions answer a bare list: the next page's token goes in a header.
    token = paging["continuationToken"]
    return json_response(found, headers={TOKEN_HEADER: token} if token else None)


def pool(request: web.Request) -> asyncpg.Pool:
    return services(request).pool


def add_routes(table: ItemTable, plural: str) -> None:
    async def list_handler(request: web.Request) -> web.Response:
        return await list_items(request, table)

    async def item_handler(request: web.Request) -> web.Response:
        return await one_item(request, table)

    async def versions_handler(request: web.Request) -> web.Response:
        return await versions(request, table)

    for handler in (list_handler, item_handler, versions_handler):
        requires_scope("apollo_read")(handler)
    apollo_family(versions_handler)
    for base in (f"{ER}/{plural}", ER + SCOPED[table]):
        routes.get(base)(list_handler)
        routes.get(base + "/{id}")(item_handler)
        routes.get(base + "/{id}/versions")(versions_handler)
    routes.get(f"/api/{plural}/{{id}}/versions")(versions_handler)


add_routes(ENTITIES, "entities")
add_routes(RELATIONSHIPS, "relationships")
