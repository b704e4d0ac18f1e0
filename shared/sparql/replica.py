"""A SPARQL query process: its own pyoxigraph store, filled by the gateway, and one query at a
time evaluated against it.

Run as ``python -m shared.sparql.replica IN_FD OUT_FD`` by :mod:`shared.sparql.processes`. It
reads requests (pickled tuples, from the gateway that started it) on IN_FD and writes each
answer as JSON on OUT_FD. The query is the attacker's input and pyoxigraph is native code that
can crash on it, so the process trusts nothing it makes: the gateway reads its answers as JSON
only, can kill it at any moment, and builds another.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from shared.errors import BadRequest
from shared.sparql import query, sandbox

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")

# An entity as the gateway sends it: (id, IRI, Brick class IRI or None, label); a relationship:
# (id, source IRI, relation IRI, destination IRI).
EntityRow = tuple[str, str, str | None, str]
RelationshipRow = tuple[str, str, str, str]


@dataclass
class CollectionGraph:
    name: ox.NamedNode
    entities: dict[str, list[ox.Quad]] = field(default_factory=dict)
    relationships: dict[str, ox.Quad] = field(default_factory=dict)
    triples: Counter[ox.Quad] = field(default_factory=Counter)  # two relationships, one triple


class Replica:
    """The process's store: ontologies and collection graphs, as the gateway sends them."""

    def __init__(self) -> None:
        self.store = ox.Store()
        self.collections: dict[str, CollectionGraph] = {}

    def ontology_file(self, graph: str, path: str) -> None:
        self.store.bulk_load(path=path, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))

    def ontology_pairs(self, graph: str, pairs: list[tuple[str, str]]) -> None:
        name = ox.NamedNode(graph)
        self.store.extend(
            ox.Quad(ox.NamedNode(child), RDFS_SUBCLASS, ox.NamedNode(parent), name)
            for child, parent in pairs
        )

    def collection(
        self,
        graph: str,
        rebuild: bool,
        changed: tuple[list[str], list[str]],
        entities: list[EntityRow],
        relationships: list[RelationshipRow],
    ) -> None:
        """Replace the ``changed`` entities and relationships (all of them on a rebuild) with
        the rows given: a changed id with no row was deleted."""
        found = self.collections.get(graph)
        if rebuild or found is None:
            self.store.clear_graph(ox.NamedNode(graph))
            found = self.collections[graph] = CollectionGraph(ox.NamedNode(graph))
        for entity_id in changed[0]:
            for quad in found.entities.pop(entity_id, ()):
                self.store.remove(quad)
        for relationship_id in changed[1]:
            if relationship_id in found.relationships:
                quad = found.relationships.pop(relationship_id)
                found.triples[quad] -= 1
                if found.triples[quad] <= 0:
                    del found.triples[quad]
                    self.store.remove(quad)
        self.store.extend(self._place(found, entities, relationships))

    def _place(
        self, graph: CollectionGraph, entities: list[EntityRow], rels: list[RelationshipRow]
    ) -> list[ox.Quad]:
        added: list[ox.Quad] = []
        for entity_id, iri, brick_class, label in entities:
            subject = ox.NamedNode(iri)
            quads = [ox.Quad(subject, RDFS_LABEL, ox.Literal(label), graph.name)]
            if brick_class:
                quads.append(ox.Quad(subject, RDF_TYPE, ox.NamedNode(brick_class), graph.name))
            graph.entities[entity_id] = quads
            added += quads
        for relationship_id, source, relation, destination in rels:
            quad = ox.Quad(
                ox.NamedNode(source), ox.NamedNode(relation), ox.NamedNode(destination), graph.name
            )
            graph.relationships[relationship_id] = quad
            graph.triples[quad] += 1
            added.append(quad)
        return added

    def query(
        self, text: str, dataset: list[str], prefixes: dict[str, str], timeout_s: float,
        limit: int, result_format: str,
    ) -> dict[str, Any]:  # fmt: skip
        graphs = [ox.NamedNode(name) for name in dataset]
        found = query.evaluate(self.store, text, graphs, prefixes, timeout_s, limit)
        body, content_type = query.render(found, result_format)
        return {"body": body, "contentType": content_type}


def _answer(replica: Replica, request: tuple[Any, ...]) -> dict[str, Any]:
    verb, *arguments = request
    try:
        done = getattr(replica, verb)(*arguments)
    except query.LimitExceeded as error:
        return {"error": "limit", "message": error.message}
    except BadRequest as error:
        return {"error": "query", "message": error.message}
    return done if isinstance(done, dict) else {}


def serve(requests: Connection, answers: Connection) -> None:
    try:
        sandbox.enter()
    except sandbox.SandboxUnavailable as error:
        answers.send_bytes(json.dumps({"error": "sandbox", "message": str(error)}).encode())
        return
    replica = Replica()
    answers.send_bytes(b"{}")  # ready
    while True:
        try:
            request = pickle.loads(requests.recv_bytes())  # from our own gateway
        except EOFError:  # the gateway is gone
            return
        answers.send_bytes(json.dumps(_answer(replica, request)).encode())


if __name__ == "__main__":
    in_fd, out_fd = int(sys.argv[1]), int(sys.argv[2])
    os.dup2(2, 1)  # whatever a library prints goes to the log, never into an answer
    serve(Connection(in_fd, writable=False), Connection(out_fd, readable=False))
