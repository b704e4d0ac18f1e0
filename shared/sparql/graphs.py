"""Each ER collection as an RDF graph, beside the ontology of its schema collection's release,
kept in each query process's store from PostgreSQL.

An entity is ``<urn:brickyard:er:{collection}:{id}>`` with ``rdf:type`` its Brick class and
``rdfs:label`` its name; a relationship is the triple (source, Brick relation, destination).
A collection's graph is built in a process on its first query there from one consistent
snapshot (the feed's last sequence id read in the same transaction), then brought up to date
before each query by sending the change feed's events after the last one that process applied:
a query sees every change that committed before it. A feed pruned past what the process applied
rebuilds it. The gateway reads PostgreSQL; a query process never connects to anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import asyncpg

from shared.changefeed import store as feed
from shared.releases.catalog import brick_files
from shared.sparql import store as source
from shared.sparql.replica import EntityRow, RelationshipRow

BRICK = "https://brickschema.org/schema/Brick#"
FEED_BATCH = 5000
# Filling a process's store with a large collection takes a while; a query's own limit starts
# once its graphs are ready.
FILL_TIMEOUT_S = 120.0


def entity_iri(collection_id: str, entity_id: str) -> str:
    return f"urn:brickyard:er:{collection_id}:{quote(entity_id, safe='')}"


def graph_name(collection_id: str) -> str:
    return f"urn:brickyard:graph:{quote(collection_id)}"


class Replicated:
    """What one query process's store holds: the feed position each collection's graph stands
    at, and the ontologies loaded. Cleared when the process is replaced."""

    def __init__(self) -> None:
        self.applied: dict[str, int] = {}
        self.ontologies: set[str] = set()

    def clear(self) -> None:
        self.applied.clear()
        self.ontologies.clear()


Send = Callable[[tuple[Any, ...], float], Awaitable[dict[str, Any]]]


class Graphs:
    """Brings a process's store up to date for one query; the type names it learns are kept
    for every process (a type's Brick class never changes)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._types: dict[str, str | None] = {}

    async def prepare(
        self, held: Replicated, send: Send, collection_id: str, schema_collection_id: str
    ) -> list[str]:
        """The graphs a query of ``collection_id`` reads, brought up to date in the process."""
        ontology = await self._ontology(held, send, schema_collection_id)
        await self._collection(held, send, collection_id)
        return [ontology, graph_name(collection_id)]

    async def _ontology(self, held: Replicated, send: Send, schema_collection_id: str) -> str:
        line, version = await source.release(self._pool, schema_collection_id)
        files = brick_files() if line == "brick" else {}
        key = f"brick:{version}" if version in files else f"hierarchy:{schema_collection_id}"
        name = f"urn:brickyard:ontology:{quote(key, safe=':')}"
        if key not in held.ontologies:
            if version in files:
                await send(("ontology_file", name, str(files[version])), FILL_TIMEOUT_S)
            else:
                found = await source.class_hierarchy(self._pool, schema_collection_id)
                pairs = [(BRICK + c, BRICK + p) for c, p in found if c and p]
                await send(("ontology_pairs", name, pairs), FILL_TIMEOUT_S)
            held.ontologies.add(key)
        return name

    async def _collection(self, held: Replicated, send: Send, collection_id: str) -> None:
        counter = await feed.counter(self._pool, collection_id)
        applied = held.applied.get(collection_id, -1)
        if applied < 0 or counter.pruned_through > applied:
            held.applied.pop(collection_id, None)
            async with (
                self._pool.acquire() as conn,
                conn.transaction(isolation="repeatable_read", readonly=True),
            ):
                applied = await source.snapshot_counter(conn, collection_id)
                entities = await source.entities(conn, collection_id, None)
                relationships = await source.relationships(conn, collection_id, None)
            await self._send(send, collection_id, True, ([], []), entities, relationships)
            held.applied[collection_id] = applied
        while True:
            events = await feed.events_after(self._pool, collection_id, applied, FEED_BATCH)
            if not events:
                return
            changed: dict[str, set[str]] = {"entity": set(), "relationship": set()}
            for event in events:
                changed[event.item_kind].add(event.item_id)
            ids = sorted(changed["entity"]), sorted(changed["relationship"])
            entities = await source.entities(self._pool, collection_id, ids[0])
            relationships = await source.relationships(self._pool, collection_id, ids[1])
            await self._send(send, collection_id, False, ids, entities, relationships)
            applied = held.applied[collection_id] = events[-1].sequence_id

    async def _send(
        self, send: Send, collection_id: str, rebuild: bool, changed: tuple[list[str], list[str]],
        entities: list[asyncpg.Record], relationships: list[asyncpg.Record],
    ) -> None:  # fmt: skip
        await self._learn_types(
            {r["entity_type"] for r in entities} | {r["relationship_type"] for r in relationships}
        )
        entity_rows: list[EntityRow] = []
        for row in entities:
            name = self._types.get(row["entity_type"])
            entity_rows.append((
                row["id"], entity_iri(collection_id, row["id"]), BRICK + name if name else None,
                row["name"] or row["id"],
            ))  # fmt: skip
        relationship_rows: list[RelationshipRow] = []
        for row in relationships:
            relation = self._types.get(row["relationship_type"])
            if relation:
                relationship_rows.append((
                    row["id"], entity_iri(collection_id, row["source_entity_id"]), BRICK + relation,
                    entity_iri(row["destination_collection_id"], row["destination_entity_id"]),
                ))  # fmt: skip
        request = ("collection", graph_name(collection_id), rebuild, changed, entity_rows,
                   relationship_rows)  # fmt: skip
        await send(request, FILL_TIMEOUT_S)

    async def _learn_types(self, type_ids: set[str]) -> None:
        """The Brick class (entity types) or relation (relationship types) each type stands for."""
        missing = sorted(t for t in type_ids if t not in self._types)
        if not missing:
            return
        for type_id, metadata in (await source.type_metadata(self._pool, missing)).items():
            self._types[type_id] = metadata.get("class") or metadata.get("relation")
        for type_id in missing:
            self._types.setdefault(type_id, None)
