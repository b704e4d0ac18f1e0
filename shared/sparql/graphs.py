"""Each ER collection as an RDF graph in one in-memory pyoxigraph store per process, beside the
ontology of its schema collection's release.

An entity is ``<urn:brickyard:er:{collection}:{id}>`` with ``rdf:type`` its Brick class and
``rdfs:label`` its name; a relationship is the triple (source, Brick relation, destination).
A collection's graph is built on its first query from one consistent snapshot (the feed's last
sequence id read in the same transaction), then brought up to date before each query by
applying the change feed's events after the last one applied: a query sees every change that
committed before it. A feed pruned past what the graph applied rebuilds it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote

import asyncpg
import pyoxigraph as ox

from shared.changefeed import store as feed
from shared.releases.catalog import brick_files
from shared.sparql import store as source  # `store` is taken: self.store is pyoxigraph's

BRICK = "https://brickschema.org/schema/Brick#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
FEED_BATCH = 5000


def entity_iri(collection_id: str, entity_id: str) -> ox.NamedNode:
    return ox.NamedNode(f"urn:brickyard:er:{collection_id}:{quote(entity_id, safe='')}")


@dataclass
class CollectionGraph:
    name: ox.NamedNode
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    applied: int = -1  # the last feed sequence applied; -1: not built
    entities: dict[str, list[ox.Quad]] = field(default_factory=dict)
    relationships: dict[str, ox.Quad] = field(default_factory=dict)
    triples: Counter[ox.Quad] = field(default_factory=Counter)  # two relationships, one triple


class Graphs:
    """The process's store: ontologies (loaded once each) and collection graphs."""

    def __init__(self, pool: asyncpg.Pool, executor: ThreadPoolExecutor) -> None:
        self.store = ox.Store()
        self._pool, self._executor = pool, executor
        self._collections: dict[str, CollectionGraph] = {}
        self._ontologies: dict[str, ox.NamedNode] = {}
        self._ontology_lock = asyncio.Lock()
        self._types: dict[str, str | None] = {}

    async def dataset(self, collection_id: str, schema_collection_id: str) -> list[ox.NamedNode]:
        """The graphs a query of ``collection_id`` reads, brought up to date."""
        ontology = await self._ontology(schema_collection_id)
        graph = await self._collection(collection_id)
        return [ontology, graph.name]

    async def _ontology(self, schema_collection_id: str) -> ox.NamedNode:
        async with self._ontology_lock:
            line, version = await source.release(self._pool, schema_collection_id)
            files = brick_files() if line == "brick" else {}
            key = f"brick:{version}" if version in files else f"hierarchy:{schema_collection_id}"
            if key not in self._ontologies:
                name = ox.NamedNode(f"urn:brickyard:ontology:{quote(key, safe=':')}")
                if version in files:
                    path = str(files[version])
                    await asyncio.get_running_loop().run_in_executor(
                        self._executor,
                        lambda: self.store.bulk_load(
                            path=path, format=ox.RdfFormat.TURTLE, to_graph=name
                        ),
                    )
                else:
                    pairs = await source.class_hierarchy(self._pool, schema_collection_id)
                    self.store.extend(
                        ox.Quad(ox.NamedNode(BRICK + child), RDFS_SUBCLASS,
                                ox.NamedNode(BRICK + parent), name)
                        for child, parent in pairs if child and parent
                    )  # fmt: skip
                self._ontologies[key] = name
            return self._ontologies[key]

    async def _collection(self, collection_id: str) -> CollectionGraph:
        graph = self._collections.setdefault(
            collection_id,
            CollectionGraph(ox.NamedNode(f"urn:brickyard:graph:{quote(collection_id)}")),
        )
        async with graph.lock:
            counter = await feed.counter(self._pool, collection_id)
            if graph.applied < 0 or counter.pruned_through > graph.applied:
                await self._rebuild(collection_id, graph)
            while True:
                events = await feed.events_after(
                    self._pool, collection_id, graph.applied, FEED_BATCH
                )
                if not events:
                    return graph
                changed: dict[str, set[str]] = {"entity": set(), "relationship": set()}
                for event in events:
                    changed[event["item_kind"]].add(event["item_id"])
                await self._apply(collection_id, graph, changed)
                graph.applied = events[-1]["sequence_id"]

    async def _rebuild(self, collection_id: str, graph: CollectionGraph) -> None:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            applied = await source.snapshot_counter(conn, collection_id)
            entities = await source.entities(conn, collection_id, None)
            relationships = await source.relationships(conn, collection_id, None)
        self.store.clear_graph(graph.name)
        graph.entities.clear()
        graph.relationships.clear()
        graph.triples.clear()
        await self._place(collection_id, graph, entities, relationships)
        graph.applied = applied

    async def _apply(
        self, collection_id: str, graph: CollectionGraph, changed: dict[str, set[str]]
    ) -> None:
        entity_ids, relationship_ids = sorted(changed["entity"]), sorted(changed["relationship"])
        entities = await source.entities(self._pool, collection_id, entity_ids)
        relationships = await source.relationships(self._pool, collection_id, relationship_ids)
        for entity_id in entity_ids:
            for quad in graph.entities.pop(entity_id, ()):
                self.store.remove(quad)
        for relationship_id in relationship_ids:
            if relationship_id not in graph.relationships:
                continue
            quad = graph.relationships.pop(relationship_id)
            graph.triples[quad] -= 1
            if graph.triples[quad] <= 0:
                del graph.triples[quad]
                self.store.remove(quad)
        await self._place(collection_id, graph, entities, relationships)

    async def _place(
        self,
        collection_id: str,
        graph: CollectionGraph,
        entities: list[asyncpg.Record],
        relationships: list[asyncpg.Record],
    ) -> None:
        types = {r["entity_type"] for r in entities} | {
            r["relationship_type"] for r in relationships
        }
        await self._learn_types(types)
        added: list[ox.Quad] = []
        for row in entities:
            subject = entity_iri(collection_id, row["id"])
            quads = [ox.Quad(subject, RDFS_LABEL, ox.Literal(row["name"] or row["id"]), graph.name)]
            name = self._types.get(row["entity_type"])
            if name:
                quads.append(ox.Quad(subject, RDF_TYPE, ox.NamedNode(BRICK + name), graph.name))
            graph.entities[row["id"]] = quads
            added += quads
        for row in relationships:
            relation = self._types.get(row["relationship_type"])
            if not relation:
                continue
            quad = ox.Quad(
                entity_iri(collection_id, row["source_entity_id"]),
                ox.NamedNode(BRICK + relation),
                entity_iri(row["destination_collection_id"], row["destination_entity_id"]),
                graph.name,
            )
            graph.relationships[row["id"]] = quad
            graph.triples[quad] += 1
            added.append(quad)
        self.store.extend(added)

    async def _learn_types(self, type_ids: set[str]) -> None:
        """The Brick class (entity types) or relation (relationship types) each type stands for."""
        missing = sorted(t for t in type_ids if t not in self._types)
        if not missing:
            return
        for type_id, metadata in (await source.type_metadata(self._pool, missing)).items():
            self._types[type_id] = metadata.get("class") or metadata.get("relation")
        for type_id in missing:
            self._types.setdefault(type_id, None)
