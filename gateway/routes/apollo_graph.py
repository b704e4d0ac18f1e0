"""Apollo graph service (``/apollo/graph``): the graph pages' query forms over the ER store,
``entities({id})/reachable`` for transitive closure, and the search-query routes."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_response,
    principal,
    query_flag,
    read_json,
    requires_scope,
    services,
)
from gateway.routes.apollo_er import header_collection
from shared.er.access import ErCollections, Role
from shared.er.tables import ENTITIES, RELATIONSHIPS, ItemTable
from shared.errors import BadRequest
from shared.graph import forms, reachable, reads, search, store
from shared.paging import (
    SIZE_HEADER,
    TOKEN_HEADER,
    PageRequest,
    page_request,
    requested_size,
    sent_token,
)
from shared.text import storable

routes = web.RouteTableDef()
GRAPH = "/apollo/graph"
# The pages page with the headers `first` (size) and `after` (the last continuationToken;
# their examples send `after: 0` on the first call).
FIRST, AFTER = "first", "after"
OPTIONS = ("$expand",)


async def graph_page(request: web.Request, *binding: object) -> PageRequest:
    size_header = request.headers.get(FIRST) or request.headers.get(SIZE_HEADER)
    size = requested_size(request.query.get("size"), size_header)
    token = request.headers.get(TOKEN_HEADER) or request.headers.get(AFTER)
    token = None if token in (None, "", "0") else token
    token = sent_token(token, request.query.get(TOKEN_HEADER))
    return await page_request(services(request).pool, token, size, *binding)


async def open_graph(request: web.Request) -> reads.Graph:
    system = query_flag(request, "includeSystemData")
    return await reads.Graph.open(
        services(request).pool,
        principal(request).id,
        header_collection(request),
        system,
        request.query.get("v") == "1.2",
    )


def expansion(request: web.Request, allowed: bool = True) -> tuple[forms.Level, ...]:
    unknown = [name for name in request.query if name.startswith("$") and name not in OPTIONS]
    if unknown or (not allowed and "$expand" in request.query):
        names = ", ".join(unknown or ["$expand"])
        raise BadRequest(f"Unsupported graph query option {names} on {request.path}")
    return forms.expansion(request.query.get("$expand"))


async def answer(
    request: web.Request, table: ItemTable, selection: forms.Selection
) -> web.Response:
    levels = expansion(request, table is ENTITIES)
    graph = await open_graph(request)
    page = await graph_page(
        request, "graph", table.table, graph.collection.id, selection, request.query.get("$expand")
    )
    data, paging = await reads.items(graph, table, selection, page)
    first_level = await reads.expand(graph, data, levels)
    if selection.single and levels == (forms.Level(None, False, None),):
        paging = {**paging, "totalCount": first_level}  # the page's own example counts these
    return apollo_response(request, data, paging=paging)


def type_from_path(request: web.Request) -> forms.Selection:
    return forms.Selection(type_id=storable(request.match_info["type"], "The type id"))


@routes.get(GRAPH + "/entities")
@requires_scope("apollo_read")
async def graph_entities(request: web.Request) -> web.Response:
    """Every entity of the collection, in pages (headers `first` and `after`)"""
    return await answer(request, ENTITIES, forms.Selection())


@routes.get(GRAPH + "/entities/{type}")
@requires_scope("apollo_read")
async def graph_entities_of_type(request: web.Request) -> web.Response:
    """The entities of one type"""
    return await answer(request, ENTITIES, type_from_path(request))


@routes.get(GRAPH + "/entities({spec})")
@requires_scope("apollo_read")
async def graph_entities_query(request: web.Request) -> web.Response:
    """Entities by the graph pages' forms, with their expansions

    `entities({id})`, `entities({id},{id})`, `entities($filter={id})`,
    `entities($select=eType:{type})`; `$expand=rType:{type|ALL}($expand=eType:{type|ALL}(...))`
    nests relationships and their destination entities, up to 4 levels."""
    return await answer(request, ENTITIES, forms.selection(request.match_info["spec"], "entities"))


@routes.get(GRAPH + "/entities({spec})/reachable")
@requires_scope("apollo_read")
async def graph_reachable(request: web.Request) -> web.Response:
    """Every entity reachable from one, with the path to each

    Query: `relationshipType` (comma-separated type ids, `NS__relation` or relation names; any
    when absent), `direction` (`out` or `in`), `maxDepth` (1-100, default 10)."""
    selection = forms.selection(request.match_info["spec"], "entities")
    if not selection.single:
        raise BadRequest("reachable starts from one entity: entities({id})/reachable")
    walk = reachable.walk_from(dict(request.query), selection.ids[0])
    graph = await open_graph(request)
    page = await graph_page(request, "reachable", graph.collection.id, walk)
    data, paging = await reachable.reachable(graph, walk, page)
    return apollo_response(request, data, paging=paging)


@routes.get(GRAPH + "/relationships")
@requires_scope("apollo_read")
async def graph_relationships(request: web.Request) -> web.Response:
    """Every relationship of the collection, in pages"""
    return await answer(request, RELATIONSHIPS, forms.Selection())


@routes.get(GRAPH + "/relationships/{type}")
@requires_scope("apollo_read")
async def graph_relationships_of_type(request: web.Request) -> web.Response:
    """The relationships of one type"""
    return await answer(request, RELATIONSHIPS, type_from_path(request))


@routes.get(GRAPH + "/relationships({spec})")
@requires_scope("apollo_read")
async def graph_relationships_query(request: web.Request) -> web.Response:
    """Relationships by id (`relationships({id})`, `$filter={id}`) or type (`$select=rType:{type}`)"""
    spec = request.match_info["spec"]
    return await answer(request, RELATIONSHIPS, forms.selection(spec, "relationships"))


async def search_items(request: web.Request, table: ItemTable) -> web.Response:
    body = await read_json(request, ("application/json", "text/plain"))
    query = search.search_sql(body, table)
    names = [n.strip() for n in header_collection(request).split(",") if n.strip()]
    if not names:
        raise BadRequest("The ercollectionid header is required")
    pool = services(request).pool
    found = await ErCollections(pool).require_each(principal(request).id, names, Role.readonly)
    graph = reads.Graph(pool, found[names[0]], {c.id: c for c in found.values()},
                        query_flag(request, "includeSystemData"))  # fmt: skip
    ids = sorted(graph.readable)
    page = await graph_page(request, "search", table.table, ids, query.count, query.args)
    after = page.after_as(list, ["", ""])
    if len(after) != 2 or not all(isinstance(part, str) for part in after):
        raise BadRequest("The continuation token is not a token this service issued")
    total = await store.count_search(pool, query, ids)
    rows = await store.page_search(pool, query, ids, after, page.fetch)
    shown, paging = page.page(total, rows, lambda row: [row.item_collection, row.id])
    data = await graph.render(table, shown)
    for row, item in zip(shown, data, strict=True):
        item.setdefault("ercollectionid", row.item_collection)
    return apollo_response(request, data, paging=paging)


@routes.post(GRAPH + "/entities/search/query")
@requires_scope("apollo_read")
async def graph_search_entities(request: web.Request) -> web.Response:
    """Entities matching an Elasticsearch-style query, answered from PostgreSQL

    The `ercollectionid` header may name several collections, comma-separated."""
    return await search_items(request, ENTITIES)


@routes.post(GRAPH + "/relationships/search/query")
@requires_scope("apollo_read")
async def graph_search_relationships(request: web.Request) -> web.Response:
    """Relationships matching an Elasticsearch-style query, answered from PostgreSQL"""
    return await search_items(request, RELATIONSHIPS)
