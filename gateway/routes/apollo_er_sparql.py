"""A read-only SPARQL 1.1 endpoint per ER collection (the SPARQL protocol's query operation):
``GET /apollo/er/ercollections/{id}/sparql?query=...``, or POST with ``application/sparql-query``
or a form. Results as SPARQL JSON (the default) or CSV; CONSTRUCT and DESCRIBE as N-Triples."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import web

from gateway.http import requires_scope
from gateway.keys import POOL
from gateway.routes.apollo_er import COLLECTION, collection
from shared.er.access import Role
from shared.errors import BadRequest, UnsupportedMediaType
from shared.sparql import query
from shared.sparql.graphs import Graphs

routes = web.RouteTableDef()
# Queries evaluated at once in one process; more wait (within their own time limit).
QUERY_THREADS = 2
JSON_RESULTS = "application/sparql-results+json"
CSV_RESULTS = "text/csv"
N_TRIPLES = "application/n-triples"
DATASET_PARAMETERS = ("default-graph-uri", "named-graph-uri")


@dataclass(frozen=True, slots=True)
class Sparql:
    graphs: Graphs
    executor: ThreadPoolExecutor


SPARQL = web.AppKey("sparql", Sparql)


async def sparql_ctx(app: web.Application) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="sparql")
    app[SPARQL] = Sparql(Graphs(app[POOL], executor), executor)
    yield
    executor.shutdown(wait=False, cancel_futures=True)


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
    sparql = request.app[SPARQL]
    dataset = await sparql.graphs.dataset(target.id, target.schema_collection_id)
    prefixes = {**query.PREFIXES, "er": f"urn:brickyard:er:{target.id}:"}
    found = await query.run(
        sparql.executor, sparql.graphs.store, text, dataset, prefixes, time_limit(request)
    )
    if found.kind == "triples":
        return web.Response(text=query.as_ntriples(found), content_type=N_TRIPLES)
    if result_format(request) == CSV_RESULTS:
        return web.Response(text=query.as_csv(found), content_type=CSV_RESULTS)
    return web.Response(text=query.as_json(found), content_type=JSON_RESULTS)


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
