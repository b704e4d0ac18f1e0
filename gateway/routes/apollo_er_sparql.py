"""A read-only SPARQL 1.1 endpoint per ER collection (the SPARQL protocol's query operation):
``GET /apollo/er/ercollections/{id}/sparql?query=...``, or POST with ``application/sparql-query``
or a form. Results as SPARQL JSON (the default) or CSV; CONSTRUCT and DESCRIBE as N-Triples."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.http import principal, requires_scope
from gateway.keys import POOL, SETTINGS
from gateway.routes.apollo_er import COLLECTION, collection
from shared.er.access import Role
from shared.errors import BadRequest, UnsupportedMediaType
from shared.sparql import query
from shared.sparql.query import CSV_RESULTS, JSON_RESULTS
from shared.sparql.service import Query, SparqlService

routes = web.RouteTableDef()
DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri")
SPARQL = web.AppKey("sparql", SparqlService)


async def sparql_ctx(app: web.Application) -> AsyncIterator[None]:
    service = SparqlService(app[SETTINGS], app[POOL])
    app[SPARQL] = service
    yield
    await service.close()


async def query_text(request: web.Request) -> str:
    """The protocol's three ways to send a query; a dataset of the client's own is refused."""
    asked = dict(request.query)
    if request.method == "POST":
        if request.content_type == "application/sparql-query":
            asked["query"] = (await request.read()).decode("utf-8", errors="strict")
        elif request.content_type == "application/x-www-form-urlencoded":
            asked.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        else:
            raise UnsupportedMediaType(
                "POST a query as application/sparql-query or application/x-www-form-urlencoded"
            )
    if "update" in asked:
        raise BadRequest("This endpoint is read-only: SPARQL update is refused")
    for name in DATASET_PARAMETERS:
        if name in asked:
            raise BadRequest(f"'{name}' is not supported: the dataset is the collection's graph "
                             "and its release's ontology")  # fmt: skip
    text = asked.get("query")
    if not text or not text.strip():
        raise BadRequest("The 'query' parameter is required (a SPARQL query)")
    return text


def time_limit(request: web.Request) -> float:
    """``timeout`` (seconds) may lower the limit, never raise it."""
    raw = request.query.get("timeout")
    if raw is None:
        return query.TIME_LIMIT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= query.TIME_LIMIT_S:
        raise BadRequest(
            f"'timeout' must be more than 0 and at most {query.TIME_LIMIT_S:g} seconds"
        )
    return value


def result_format(request: web.Request) -> str:
    """The first of the client's accepted types we serve (JSON unless CSV comes first)."""
    for part in request.headers.get("Accept", "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == CSV_RESULTS:
            return CSV_RESULTS
        if media in (JSON_RESULTS, "application/json", "*/*"):
            return JSON_RESULTS
    return JSON_RESULTS


async def answer(request: web.Request) -> web.Response:
    try:
        text = await query_text(request)
    except UnicodeDecodeError as exc:
        raise BadRequest("The query is not UTF-8") from exc
    target = await collection(request, request.match_info["id"], Role.readonly)
    prefixes = {**query.PREFIXES, "er": f"urn:brickyard:er:{target.id}:"}
    asked = Query(principal(request).name, target.id, target.schema_collection_id, text,
                  prefixes, time_limit(request), result_format(request))  # fmt: skip
    body, content_type = await request.app[SPARQL].answer(asked)
    return web.Response(text=body, content_type=content_type)


@routes.get(COLLECTION + "/sparql")
@requires_scope("apollo_read")
async def sparql_get(request: web.Request) -> web.Response:
    """SPARQL query over the collection's Brick graph (query in `query`)

    The graph holds each entity typed by its Brick class and each relationship as its Brick
    relation, with the release's ontology beside it, so `rdf:type/rdfs:subClassOf*` works.
    Entities are `<urn:brickyard:er:{collection}:{id}>` (prefix `er:`); `brick:`, `rdf:`,
    `rdfs:`, `owl:` are predeclared. Read-only; `timeout` lowers the 10 s time limit; at most
    10000 results."""
    return await answer(request)


@routes.post(COLLECTION + "/sparql")
@requires_scope("apollo_read")
async def sparql_post(request: web.Request) -> web.Response:
    """SPARQL query over the collection's Brick graph (query in the body)

    `application/sparql-query` (the query as the body) or `application/x-www-form-urlencoded`
    (`query=...`). An update is refused."""
    return await answer(request)
