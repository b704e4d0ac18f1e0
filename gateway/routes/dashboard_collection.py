"""The dashboard's page of one ER collection, for building engineers (issue 22): its Brick
classes as a chart, an entity browser, the equipment -> point and feeds tree of a chosen
entity, a SPARQL box, the Turtle export, and Brick's SHACL shapes run over it when asked.

Everything is a GET of the fragment (the page's query string is passed on), so the page needs
no script of its own: a query or a validation is a form submitted to the page's own URL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.http import principal, requires_scope, services
from gateway.routes.apollo_er_sparql import SPARQL
from shared.er import browse
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.brick import brick_types, turtle
from shared.errors import BrickyardError
from shared.importer.brick import release_of
from shared.importer.shacl import validate
from shared.sparql import query as sparql
from shared.sparql.query import JSON_RESULTS
from shared.sparql.service import Query

routes = web.RouteTableDef()
CHART_WIDTH, BAR_HEIGHT, CHART_CLASSES = 600, 18, 25
SPARQL_ROWS = 200  # shown; the endpoint itself returns up to 10000
EXAMPLE_QUERY = "SELECT ?equipment ?point WHERE {\n  ?equipment brick:hasPoint ?point .\n} LIMIT 20"


def class_chart(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars, one per class (the most numerous first), drawn on the server."""
    shown = counts[:CHART_CLASSES]
    peak = max((row["n"] for row in shown), default=0) or 1
    bars = [
        {"y": index * BAR_HEIGHT, "w": round((CHART_WIDTH - 260) * row["n"] / peak, 1), **row}
        for index, row in enumerate(shown)
    ]
    return {"bars": bars, "width": CHART_WIDTH, "height": max(len(bars), 1) * BAR_HEIGHT,
            "hidden": len(counts) - len(shown)}  # fmt: skip


async def sparql_table(request: web.Request, collection: ErCollection, text: str) -> dict[str, Any]:
    """The query's results as a table, or the reason it was refused."""
    asked = Query(principal(request).name, collection.id, collection.schema_collection_id, text,
                  {**sparql.PREFIXES, "er": f"urn:brickyard:er:{collection.id}:"},
                  sparql.TIME_LIMIT_S, JSON_RESULTS)  # fmt: skip
    try:
        body, _ = await request.app[SPARQL].answer(asked)
    except BrickyardError as exc:
        return {"error": str(exc)}
    data = json.loads(body)
    if "boolean" in data:
        return {"columns": ["answer"], "rows": [[str(data["boolean"]).lower()]], "total": 1}
    if "results" not in data:  # CONSTRUCT or DESCRIBE: N-Triples, shown as it is
        return {"triples": body[:20_000]}
    columns = data["head"]["vars"]
    bindings = data["results"]["bindings"]
    rows = [[b.get(c, {}).get("value", "") for c in columns] for b in bindings[:SPARQL_ROWS]]
    return {"columns": columns, "rows": rows, "total": len(bindings)}


async def shacl_summary(request: web.Request, collection: ErCollection) -> dict[str, Any]:
    """Brick's shapes over the export; the work runs off the event loop (seconds of CPU)."""
    model = "".join([piece async for piece in turtle(services(request).pool, collection)])
    payload = model.encode()
    summary = await asyncio.to_thread(validate, payload, release_of(payload))
    return summary.to_json()


@routes.get("/dashboard/fragments/collections/{collection}")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("collection.html")
async def collection_page(request: web.Request) -> dict[str, Any]:
    pool = services(request).pool
    collection = await ErCollections(pool).require(
        principal(request).id, request.match_info["collection"], Role.readonly
    )
    types = await brick_types(pool, collection)
    search, chosen = request.query.get("q", ""), request.query.get("entity", "")
    text = request.query.get("sparql", "")
    return {
        "collection": collection,
        "release": types.release,
        "chart": class_chart(await browse.class_counts(pool, collection, types)),
        "search": search,
        "entities": await browse.search(pool, collection, search),
        "chosen": chosen,
        "tree": await browse.tree(pool, collection, types, chosen) if chosen else None,
        "sparql": text or EXAMPLE_QUERY,
        "results": await sparql_table(request, collection, text) if text.strip() else None,
        "shacl": await shacl_summary(request, collection) if "validate" in request.query else None,
    }
