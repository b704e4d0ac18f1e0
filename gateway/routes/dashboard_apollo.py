"""The dashboard's Apollo fragments: status-log search (where tracker URLs land in a browser),
collections with their statistics, and a transaction's failed items."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.http import principal, requires_scope, services
from gateway.routes.schema_common import collections as schema_collections
from shared.er import reads
from shared.er.access import ErCollections
from shared.er.failed import failed_items
from shared.errors import NotFound
from shared.paging import page_request
from shared.statuslog.query import LogQuery, search_logs

routes = web.RouteTableDef()
SHOWN_RECORDS = 500


@routes.get("/dashboard/fragments/logs")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("logs.html")
async def logs(request: web.Request) -> dict[str, Any]:
    filters = {k.lower(): v for k, v in request.query.items() if v and k.lower() != "limit"}
    if not filters:
        return {"filters": {}, "records": [], "total": 0, "failed": 0}
    query = LogQuery.parse({**filters, "limit": str(SHOWN_RECORDS)})
    pool = services(request).pool
    page = await page_request(pool, None, query.limit, *query.binding)
    try:
        records, paging = await search_logs(pool, principal(request).id, query, page)
    except NotFound:
        records, paging = [], {"totalCount": 0}
    failed = sum(1 for record in records if record["state"] == "Failed")
    return {
        "filters": filters,
        "records": records,
        "total": paging.get("totalCount", len(records)),
        "failed": failed if "transactionid" in filters else 0,
    }


@routes.get("/dashboard/fragments/collections")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("collections.html")
async def collections(request: web.Request) -> dict[str, Any]:
    pool = services(request).pool
    mine = await ErCollections(pool).list_for(principal(request).id)
    listed = []
    for collection in mine:
        [stats] = await reads.collection_stats(pool, collection)
        listed.append({**collection.to_json(), "id": collection.id, "stats": stats["Summary"]})
    bound = sorted({c.schema_collection_id for c in mine})
    schemas = []
    for schema_collection in bound:
        try:
            schemas.append(
                {
                    "id": schema_collection,
                    **await schema_collections(request).stats(schema_collection),
                }
            )
        except NotFound:  # deleted since the ER collection was bound to it
            continue
    return {"er_collections": listed, "schema_collections": schemas}


@routes.get("/dashboard/fragments/failed/{transaction}")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("failed.html")
async def failed(request: web.Request) -> dict[str, Any]:
    transaction = request.match_info["transaction"]
    items = await failed_items(services(request).pool, principal(request).id, transaction)
    return {"transaction": transaction, "items": items}
