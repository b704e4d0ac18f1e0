"""A Brick model as entities and relationships of an ER collection, every triple accounted for.

Each triple of the model lands in exactly one place, so that the import's summary adds up
(triples read = in entities + in relationships + skipped):

* **In an entity.** A node typed with a Brick class is an entity (id: its IRI; entityName: its
  rdfs:label, else the IRI's local name; entityType: the collection's type for its class). The
  triple naming the class it keeps and the label it is named by are the entity's; a refused node
  takes all its Brick class triples and its label with it.
* **In a relationship.** A Brick relation whose object is a node: a relationship of the type
  whose relation and pairs admit the two ends' classes (its id derived from the triple, so a
  second import updates in place), or refused with its reason. An end with no Brick class is
  such a reason: an ER relationship joins two entities, and guessing a class for the end (from
  the relation's range, say) would invent a fact the model does not state.
* **Skipped, with a reason.** Everything else: another class or label of an entity, a class
  that is not Brick's, a predicate that is not Brick's, a Brick property with a value, a unit or
  a timeseries rather than an entity at its end."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import RDF, RDFS, BNode, Literal, URIRef

from shared.importer.brick import Catalog, is_brick, local_name, short
from shared.importer.sources import MAX_ID_LENGTH, Item

TRIPLE_NAMESPACE = uuid.UUID("5b1c1e8e-6f0b-4d8e-9a57-2d1f3c0b8a11")  # ids of imported triples


def triple_id(triple: list[str]) -> str:
    return str(uuid.uuid5(TRIPLE_NAMESPACE, " ".join(triple)))


def term_text(term: Any) -> str:
    """An IRI as itself; a literal or blank node in N-Triples form (its type and language kept)."""
    return str(term) if isinstance(term, URIRef) else str(term.n3())


def literal_key(literal: Literal) -> tuple[str, str, str]:
    """A total order of literals (rdflib's own compares values, and not all compare)."""
    return str(literal), literal.language or "", str(literal.datatype or "")


@dataclass(frozen=True, slots=True)
class Refused:
    id: str
    reason: str
    triple: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str
    triple: list[str]

    @property
    def id(self) -> str:
        return triple_id(self.triple)


@dataclass(frozen=True, slots=True)
class Renamed:
    """An entity whose class is deprecated in the release, imported as its replacement."""

    id: str
    old: str
    new: str


@dataclass
class Plan:
    triples: int = 0  # as rdflib read them: a triple written twice is one
    entity_triples: int = 0
    entities: list[Item] = field(default_factory=list)
    relationships: list[Item] = field(default_factory=list)
    refused_entities: list[Refused] = field(default_factory=list)
    refused_relationships: list[Refused] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    renamed: list[Renamed] = field(default_factory=list)

    @property
    def entities_read(self) -> int:
        return len(self.entities) + len(self.refused_entities)

    @property
    def relationships_read(self) -> int:
        return len(self.relationships) + len(self.refused_relationships)

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(s.reason for s in self.skipped).most_common())


class _Mapper:
    def __init__(self, graph: rdflib.Graph, catalog: Catalog) -> None:
        self.graph, self.catalog, self.plan = graph, catalog, Plan(triples=len(graph))
        self.classes: dict[Any, list[Any]] = {}
        for node, kind in graph.subject_objects(RDF.type):
            if is_brick(kind):
                self.classes.setdefault(node, []).append(kind)
        self.node_class: dict[Any, str] = {}
        self.deprecated_class: dict[Any, str] = {}  # the model's name of a renamed class
        self.refused_nodes: dict[Any, str] = {}
        self.names: dict[Any, Literal] = {}

    def nodes(self) -> None:
        catalog, graph = self.catalog, self.graph
        for node in sorted(self.classes, key=str):
            labels = sorted(
                (o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)),
                key=literal_key,
            )
            if labels:
                self.names[node] = labels[0]
            reason = None
            class_name = catalog.entity_class(self.classes[node])
            if isinstance(node, BNode):
                reason = "a blank node has no IRI to keep as its id"
            elif len(str(node)) > MAX_ID_LENGTH:
                reason = f"its IRI is longer than {MAX_ID_LENGTH} characters"
            elif class_name is None:
                names = ", ".join(sorted(short(graph, c) for c in self.classes[node]))
                reason = (
                    f"class {names} is not a class of schema collection "
                    f"{catalog.schema_collection} (Brick {catalog.release}, namespace "
                    f"{catalog.namespace})"
                )
            if reason is not None:
                self.refused_nodes[node] = reason
                self.plan.refused_entities.append(Refused(str(node), reason))
                continue
            assert class_name is not None  # refused above otherwise
            if (successor := catalog.replacement(class_name)) is not None:
                self.deprecated_class[node] = class_name
                self.plan.renamed.append(Renamed(str(node), class_name, successor))
                class_name = successor
            self.node_class[node] = class_name
            name = str(self.names[node]) if node in self.names else local_name(node)
            body = {
                "id": str(node),
                "entityName": name,
                "entityType": catalog.types[class_name]["typeId"],
            }
            self.plan.entities.append(Item(None, body))

    def triple(self, source: Any, predicate: Any, target: Any) -> None:
        """Put one triple in its one place: an entity, a relationship, or skipped."""
        if predicate == RDF.type:
            self._class_triple(source, target)
        elif predicate == RDFS.label:
            self._label_triple(source, target)
        elif not is_brick(predicate):
            self._skip(
                source, predicate, target, f"{self._short(predicate)} is not a Brick relation"
            )
        elif isinstance(target, Literal):
            self._skip(
                source, predicate, target,
                f"{self._short(predicate)} has a literal value: a property, not a relationship",
            )  # fmt: skip
        elif (untyped := self._untyped(source, target)) and not self._relation(predicate):
            self._skip(
                source, predicate, target,
                f"{self._short(predicate)} is not a relation between entities in Brick "
                f"{self.catalog.release}, and its {untyped} no Brick class: a property "
                "(a unit, a timeseries, a value), not a relationship",
            )  # fmt: skip
        else:
            self._relationship(source, predicate, target)

    def _short(self, term: Any) -> str:
        return short(self.graph, term)

    def _skip(self, source: Any, predicate: Any, target: Any, reason: str) -> None:
        triple = [term_text(source), term_text(predicate), term_text(target)]
        self.plan.skipped.append(Skipped(reason, triple))

    def _untyped(self, source: Any, target: Any) -> str:
        """Which ends have no Brick class ("source has", "source and target have"), or ""."""
        ends = [
            name
            for name, end in (("source", source), ("target", target))
            if end not in self.classes
        ]
        if len(ends) == 2:
            return "source and target have"
        return f"{ends[0]} has" if ends else ""

    def _relation(self, predicate: Any) -> bool:
        return local_name(predicate) in self.catalog.relations

    def _class_triple(self, node: Any, kind: Any) -> None:
        if node not in self.classes or not is_brick(kind):
            self._skip(node, RDF.type, kind, f"{self._short(kind)} is not a Brick class")
            return
        kept = self.node_class.get(node)
        kept_names = (kept, self.deprecated_class.get(node)) if kept else ()
        # A refused node's classes go with it; a renamed one keeps the class it was given as.
        if kept is None or any(self._is_class(kind, name) for name in kept_names if name):
            self.plan.entity_triples += 1
            return
        name, catalog = local_name(kind), self.catalog
        if not str(kind).startswith(catalog.namespace) or name not in catalog.types:
            why = f"not a class of Brick {catalog.release}"
        elif name in catalog.types[kept]["ancestors"]:
            why = "an ancestor of the class it keeps, so implied by it"
        else:
            why = "an entity has one class: the most specific one, then the first by name"
        self._skip(node, RDF.type, kind, f"another Brick class of an entity, {why}")

    def _is_class(self, kind: Any, class_name: str) -> bool:
        return str(kind).startswith(self.catalog.namespace) and local_name(kind) == class_name

    def _label_triple(self, node: Any, label: Any) -> None:
        if node in self.classes and self.names.get(node) == label:
            self.plan.entity_triples += 1
        elif node in self.classes:
            self._skip(node, RDFS.label, label, "another rdfs:label of an entity: it has one name")
        else:
            self._skip(node, RDFS.label, label, "an rdfs:label of a node with no Brick class")

    def _no_class(self, node: Any) -> str:
        kinds = sorted(self._short(k) for k in self.graph.objects(node, RDF.type))
        what = f"its types: {', '.join(kinds)}" if kinds else "it has no rdf:type"
        return f"{self._short(node)} has no Brick class in the model ({what})"

    def _relationship(self, source: Any, predicate: Any, target: Any) -> None:
        catalog = self.catalog
        triple = [str(source), str(predicate), str(target)]
        rel_id, relation = triple_id(triple), local_name(predicate)
        if not str(predicate).startswith(catalog.namespace):
            reason = f"{self._short(predicate)} is not a relation of Brick {catalog.release}"
        elif untyped := [end for end in (source, target) if end not in self.classes]:
            reason = "; ".join(self._no_class(end) for end in untyped)
        elif source in self.refused_nodes or target in self.refused_nodes:
            end = source if source in self.refused_nodes else target
            reason = f"{end} was not imported: {self.refused_nodes[end]}"
        else:
            type_id, reason = catalog.relationship_type(
                relation, self.node_class[source], self.node_class[target]
            )
            if type_id is not None:
                body = {
                    "id": rel_id,
                    "sourceEntityId": str(source),
                    "destinationEntityId": str(target),
                    "relationshipName": relation,
                    "relationshipType": type_id,
                }
                self.plan.relationships.append(Item(None, body))
                return
        self.plan.refused_relationships.append(Refused(rel_id, reason, triple))


def to_items(graph: rdflib.Graph, catalog_data: dict[str, Any]) -> Plan:
    mapper = _Mapper(graph, Catalog(catalog_data))
    mapper.nodes()
    for source, predicate, target in sorted(graph, key=lambda t: tuple(map(str, t))):
        mapper.triple(source, predicate, target)
    return mapper.plan
