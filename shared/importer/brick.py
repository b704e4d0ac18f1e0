"""A Brick model (any RDF rdflib reads) as entities and relationships of an ER collection.

Nodes typed with a Brick class become entities (id: the node's IRI; entityName: its rdfs:label,
else the IRI's local name; entityType: the collection's type for the class). Brick relation
triples between two such nodes become relationships of the type whose relation and pairs admit
the two ends, with an id derived from the triple, so a second import updates in place. What the
collection's release cannot hold is refused here, each with its reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import RDF, RDFS, BNode, Literal, URIRef

from shared.importer.errors import BadInput
from shared.importer.sources import MAX_ID_LENGTH, Item

# Every Brick namespace, old and new: https://brickschema.org/schema/Brick#,
# .../1.0.2/Brick#, .../1.0.2/BrickFrame#. Only the catalog's own namespace has its classes.
BRICK_SITE = ("https://brickschema.org/schema/", "http://brickschema.org/schema/")
TRIPLE_NAMESPACE = uuid.UUID("5b1c1e8e-6f0b-4d8e-9a57-2d1f3c0b8a11")  # ids of imported triples


@dataclass(frozen=True, slots=True)
class Refused:
    id: str
    reason: str
    triple: list[str] | None = None


@dataclass
class Plan:
    entities: list[Item] = field(default_factory=list)
    relationships: list[Item] = field(default_factory=list)
    refused_entities: list[Refused] = field(default_factory=list)
    refused_relationships: list[Refused] = field(default_factory=list)


def read_model(path: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    try:
        graph.parse(path, format=rdflib.util.guess_format(path) or "turtle")
    except Exception as exc:  # rdflib raises many kinds for a file it cannot read
        raise BadInput(f"cannot read the model {path}: {exc}") from exc
    return graph


def is_brick(term: Any) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(BRICK_SITE)


def local_name(term: Any) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]


def short(graph: rdflib.Graph, term: Any) -> str:
    try:
        return str(term.n3(graph.namespace_manager))
    except Exception:
        return str(term)


class Catalog:
    """The collection's types, as ``GET .../brick/types`` gives them."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.namespace: str = data["namespace"]
        self.release = data.get("release") or "its release"
        self.schema_collection = data["schemaCollectionId"]
        self.types = {t["class"]: t for t in data["entityTypes"]}
        self.relations: dict[str, list[dict[str, Any]]] = {}
        for rel in data["relationshipTypes"]:
            self.relations.setdefault(rel["relation"], []).append(rel)

    def lineage(self, class_name: str) -> list[str]:
        return [class_name, *self.types[class_name]["ancestors"]]

    def entity_class(self, classes: list[Any]) -> str | None:
        """The most specific known class of a node (one no other known class descends from)."""
        known = [
            local_name(c) for c in classes if str(c).startswith(self.namespace)
            and local_name(c) in self.types
        ]  # fmt: skip
        ancestors = {a for name in known for a in self.types[name]["ancestors"]}
        specific = sorted(name for name in set(known) if name not in ancestors)
        return specific[0] if specific else None

    def relationship_type(self, relation: str, source: str, target: str) -> tuple[str | None, str]:
        """The best type for the relation between these classes, or None and why not."""
        candidates = self.relations.get(relation, [])
        if not candidates:
            return None, (
                f"schema collection {self.schema_collection} (Brick {self.release}) has no "
                f"relationship type for the relation {relation}"
            )
        source_line, target_line = self.lineage(source), self.lineage(target)
        best: tuple[int, str] | None = None
        for rel in candidates:
            for pair_source, pair_target in rel["pairs"]:
                if pair_source in source_line and pair_target in target_line:
                    rank = source_line.index(pair_source) + target_line.index(pair_target)
                    best = min(best or (rank, rel["typeId"]), (rank, rel["typeId"]))
        if best is None:
            pairs = sorted({f"{s}->{t}" for rel in candidates for s, t in rel["pairs"]})
            shown = ", ".join(pairs[:12]) + (", ..." if len(pairs) > 12 else "")
            return None, (
                f"no {relation} relationship type admits {source} -> {target} "
                f"(allowed pairs: {shown})"
            )
        return best[1], ""


def to_items(graph: rdflib.Graph, catalog_data: dict[str, Any]) -> Plan:
    catalog, plan = Catalog(catalog_data), Plan()
    classes: dict[Any, list[Any]] = {}
    for node, kind in graph.subject_objects(RDF.type):
        if is_brick(kind):
            classes.setdefault(node, []).append(kind)
    node_class: dict[Any, str] = {}
    refused_nodes: dict[Any, str] = {}
    for node in sorted(classes, key=str):
        reason = None
        class_name = catalog.entity_class(classes[node])
        if isinstance(node, BNode):
            reason = "a blank node has no IRI to keep as its id"
        elif len(str(node)) > MAX_ID_LENGTH:
            reason = f"its IRI is longer than {MAX_ID_LENGTH} characters"
        elif class_name is None:
            names = ", ".join(sorted(short(graph, c) for c in classes[node]))
            reason = (
                f"class {names} is not a class of schema collection {catalog.schema_collection} "
                f"(Brick {catalog.release}, namespace {catalog.namespace})"
            )
        if reason is not None:
            refused_nodes[node] = reason
            plan.refused_entities.append(Refused(str(node), reason))
            continue
        assert class_name is not None  # refused above otherwise
        node_class[node] = class_name
        label = graph.value(node, RDFS.label)
        name = str(label) if isinstance(label, Literal) else local_name(node)
        body = {
            "id": str(node),
            "entityName": name,
            "entityType": catalog.types[class_name]["typeId"],
        }
        plan.entities.append(Item(None, body))
    for source, predicate, target in sorted(graph, key=lambda t: tuple(map(str, t))):
        if not is_brick(predicate) or predicate == RDF.type:
            continue
        if source not in classes or target not in classes:
            continue  # a property (a unit, a value, a tag), not a relation between nodes
        triple = [str(source), str(predicate), str(target)]
        rel_id = str(uuid.uuid5(TRIPLE_NAMESPACE, " ".join(triple)))
        relation = local_name(predicate)
        reason = None
        if not str(predicate).startswith(catalog.namespace):
            reason = f"{short(graph, predicate)} is not a relation of Brick {catalog.release}"
        elif source in refused_nodes or target in refused_nodes:
            end = source if source in refused_nodes else target
            reason = f"{end} was not imported: {refused_nodes[end]}"
        else:
            type_id, reason = catalog.relationship_type(
                relation, node_class[source], node_class[target]
            )
            if type_id is not None:
                body = {
                    "id": rel_id,
                    "sourceEntityId": str(source),
                    "destinationEntityId": str(target),
                    "relationshipName": relation,
                    "relationshipType": type_id,
                }
                plan.relationships.append(Item(None, body))
                continue
        plan.refused_relationships.append(Refused(rel_id, reason or "refused", triple))
    return plan


def validate(turtle: bytes, release: str | None = None) -> tuple[bool, str]:
    """Brick's SHACL shapes over an exported model: (conforms, the report)."""
    import brickschema

    graph = brickschema.Graph(brick_version=release or "1.4", load_brick=True)
    graph.parse(data=turtle.decode(), format="turtle")
    valid, _, report = graph.validate()
    return bool(valid), "SHACL: the model conforms to Brick's shapes" if valid else report


def release_of(turtle: bytes) -> str | None:
    """The release the export's header names (``(Brick 1.4)``)."""
    first = turtle[:300].decode(errors="replace").splitlines()[0] if turtle else ""
    marker = "(Brick "
    if marker in first:
        value = first.split(marker, 1)[1].split(")", 1)[0]
        return value if value[:1].isdigit() else None
    return None
