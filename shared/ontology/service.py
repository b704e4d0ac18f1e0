"""Building the ontology graph (the two POST jobs, and reads that find it stale) and reading it.

Freshness: the graph records the collection's ``types_generation`` (migration 025) it was built
from. Every type write renews that stamp in its own transaction, so a read that sees a stamp
other than the graph's rebuilds it first, under the collection's advisory lock (a sync, an
upsert, a state change and a delete all follow without hooks). A rebuild replaces the whole
graph in one transaction: two builds racing on a collection take turns and leave one graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

import asyncpg

from shared.errors import BadRequest, NotFound
from shared.jobs.runner import JobContext
from shared.ontology import graph as graphs
from shared.ontology import store
from shared.schemas.store import collections as collections_store

ENTITY_KIND, RELATIONSHIP_KIND = "apollo_ontology_entitytypes", "apollo_ontology_relationshiptypes"
HALVES = ("entitytypes", "relationshiptypes")
FILTERS = {"destEntityType": ("source",), "sourceEntityType": ("destination",)}
BOTH = ("source", "destination")
# The page puts the filter in the path: entityTypes/{entityType}($filter=destEntityType).
IN_PATH_FILTER = re.compile(r"^(?P<type>.+?)\(\$filter=(?P<filter>[^)]*)\)$")


def split_filter(segment: str, query_filter: str | None) -> tuple[str, tuple[str, ...]]:
    """The entity type and the ends asked for; 400 for a filter the page does not name."""
    match = IN_PATH_FILTER.fullmatch(segment)
    type_id, asked = (match["type"], match["filter"]) if match else (segment, query_filter)
    if asked is None:
        return type_id, BOTH
    if asked not in FILTERS:
        raise BadRequest(f"$filter must be one of {', '.join(FILTERS)}, not '{asked}'")
    return type_id, FILTERS[asked]


async def rebuild(conn: asyncpg.Connection, collection_id: str) -> graphs.Graph:
    """Replace the collection's graph with one of its active types (caller: in a transaction)."""
    await collections_store.lock(conn, collection_id)
    namespace = await collections_store.namespace(conn, collection_id)
    rows = await store.active_types(conn, collection_id)
    built = graphs.build(
        namespace,
        [r for r in rows if r.schema_type == "entitytypes"],
        [r for r in rows if r.schema_type == "relationshiptypes"],
    )
    await store.replace(conn, collection_id, built)
    return built


@dataclass(slots=True)
class Ontology:
    pool: asyncpg.Pool

    async def fresh(self, collection_id: str) -> str:
        """The collection's namespace, once its graph matches its types (rebuilt if stale)."""
        row = await store.freshness(self.pool, collection_id)
        if row is None:
            raise NotFound(f"Schema collection '{collection_id}' not found")
        if not store.generation_matches(row):
            async with self.pool.acquire() as conn, conn.transaction():
                await collections_store.lock(conn, collection_id)
                again = await store.freshness(conn, collection_id)
                if again is not None and not store.generation_matches(again):
                    await rebuild(conn, collection_id)
        return row.namespace

    async def owner(self, type_id: str) -> str:
        owner = await store.owner_of_entity_type(self.pool, type_id)
        if owner is None:
            raise NotFound(f"No active entity type '{type_id}'")
        return owner

    async def of_entity_type(
        self, collection_id: str, type_id: str, ends: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """getOntologyObjectByEntityType: objects the type (or an ancestor) may be an end of."""
        namespace = await self.fresh(collection_id)
        if not await store.has_entity_type(self.pool, collection_id, type_id):
            raise NotFound(f"No active entity type '{type_id}'")
        found: dict[str, dict[str, Any]] = {}
        for end in ends:
            for row in await store.inherited(self.pool, collection_id, type_id, end):
                found.setdefault(row.object_id, graphs.object_json(namespace, row))
        return list(found.values())

    async def of_relationship_type(self, collection_id: str, type_id: str) -> list[dict[str, Any]]:
        """getAllRelationsSpecificRelationshipType: every object of the same Brick relation."""
        namespace = await self.fresh(collection_id)
        rows = await store.of_relation(self.pool, collection_id, type_id)
        if not rows:
            raise NotFound(f"No ontology object '{type_id}' in schema collection '{collection_id}'")
        return [graphs.object_json(namespace, row) for row in rows]


def posted_errors(body: Any, known: set[str]) -> list[dict[str, Any]]:
    """One errorInfo entry per posted object that names no active type of the collection: a
    posted object adds nothing the collection's types do not hold (docs/apollo-ontology.md)."""
    errors = []
    for index, item in enumerate(body or []):
        named = item.get("entitytype") or item.get("id") if isinstance(item, dict) else None
        if not isinstance(named, str) or named not in known:
            errors.append(
                {
                    "index": index,
                    "id": item.get("id") if isinstance(item, dict) else None,
                    "message": f"'{named}' is not an active type of the schema collection",
                }
            )
    return errors


class BuildRequest(TypedDict):
    """Either POST's job request, as the gateway stores it."""

    schemaCollection: str  # the collection's id
    kind: str  # the page's half: entitytypes | relationshiptypes
    body: list[Any]  # the posted objects, checked against the types built
    transactionId: str


def parse_build_request(stored: Any) -> BuildRequest:
    if not isinstance(stored, dict):
        raise BadRequest("The build request must be a JSON object")
    collection_id, half = stored.get("schemaCollection"), stored.get("kind")
    body, transaction_id = stored.get("body") or [], stored.get("transactionId")
    if not isinstance(collection_id, str) or half not in HALVES or not isinstance(body, list):
        raise BadRequest("The build request names no schema collection, half or posted list")
    return BuildRequest(
        schemaCollection=collection_id,
        kind=half,
        body=body,
        transactionId=transaction_id if isinstance(transaction_id, str) else "",
    )


async def run_build(job: JobContext, request: BuildRequest) -> dict[str, Any]:
    """Either POST: rebuild the whole graph, answer the page's count for its half."""
    collection_id = request["schemaCollection"]
    async with job.pool.acquire() as conn, conn.transaction():
        await collections_store.lock(conn, collection_id)
        if await collections_store.get(conn, collection_id) is None:
            raise NotFound(f"Schema collection '{collection_id}' was deleted")
        built = await rebuild(conn, collection_id)
        entities = request["kind"] == "entitytypes"
        known = (
            {t for t, _, _ in built.entity_types}
            if entities
            else {o.object_id for o in built.objects}
        )
        known |= {t.split("__", 1)[-1] for t in known}
        count = len(built.entity_types) if entities else len(built.objects)
        result = {
            "result": 1,
            "message": f"Total number of Ontologies Posted:  {count}.",
            "errorInfo": posted_errors(request["body"], known),
        }
        await job.complete_in(conn, result)
    return result
