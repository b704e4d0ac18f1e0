"""The ontology graph built from a collection's active types, and the page's nested objects.

One ontology object per active relationship type (``hasPart_Equipment_Point``): its Brick
relation between the two top classes the type names, with the rule pairs it admits as its ends.
An entity type takes part in an object when it or one of its ancestors is an end, which is how
the doc answers an air-flow sensor's question with Point's relationships. Inverses are the
release's ``owl:inverseOf`` (kept in each relationship type's metadata as ``inverse``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.ontology.rows import ActiveType, OntologyObjectRow


@dataclass(frozen=True, slots=True)
class OntologyObject:
    object_id: str
    relation: str
    relation_type_id: str
    source_id: str
    destination_id: str
    inverse_relation: str | None


@dataclass(slots=True)
class Graph:
    # (type id, top type id, name)
    entity_types: list[tuple[str, str, str]] = field(default_factory=list)
    # (type id, ancestor id): a type is its own ancestor here
    lineage: list[tuple[str, str]] = field(default_factory=list)
    objects: list[OntologyObject] = field(default_factory=list)
    # (object id, source type id, destination type id)
    ends: list[tuple[str, str, str]] = field(default_factory=list)


def qualified(namespace: str, name: str) -> str:
    return f"{namespace}__{name}"


def build(
    namespace: str,
    entity_types: Iterable[ActiveType],
    relationship_types: Iterable[ActiveType],
) -> Graph:
    """The graph of ``entity_types`` (type_id, metadata, name) and ``relationship_types``
    (type_id, metadata), as the schema store lists a collection's active types."""
    entities = list(entity_types)
    by_class = {(e.metadata.get("class") or e.type_id): e.type_id for e in entities}

    def type_of(name: str) -> str:
        return by_class.get(name) or qualified(namespace, name)

    graph = Graph()
    for entity in entities:
        metadata, type_id = entity.metadata, entity.type_id
        own_class = metadata.get("class") or type_id
        top = metadata.get("topClass") or own_class
        graph.entity_types.append((type_id, type_of(top), entity.name or own_class))
        lineage = {type_id, *(type_of(a) for a in metadata.get("ancestors", []))}
        graph.lineage.extend((type_id, ancestor) for ancestor in sorted(lineage))
    for rel in relationship_types:
        metadata, type_id = rel.metadata, rel.type_id
        pairs = metadata.get("pairs") or []
        if not pairs:
            continue  # a type with no rules joins nothing
        source = metadata.get("source") or pairs[0]["source"]
        destination = metadata.get("destination") or pairs[0]["destination"]
        relation = metadata.get("relation") or type_id
        graph.objects.append(
            OntologyObject(
                type_id,
                relation,
                qualified(namespace, relation),
                type_of(source),
                type_of(destination),
                metadata.get("inverse"),
            )
        )
        ends = {(type_of(p["source"]), type_of(p["destination"])) for p in pairs}
        graph.ends.extend((type_id, s, d) for s, d in sorted(ends))
    return graph


def entity_json(type_id: str, top_id: str | None, name: str | None) -> dict[str, Any]:
    metadata = {
        "brickEntityType": top_id or type_id,
        "brickEntitySubType": type_id,
        "brickEntityName": name or type_id.split("__", 1)[-1],
    }
    return {"id": type_id, "brickMetadata": metadata}


def object_json(namespace: str, row: OntologyObjectRow) -> dict[str, Any]:
    """One ontology object as the pages nest it: source, relationship type, destination."""
    source, destination = row.source_id, row.destination_id
    inverse = row.inverse_relation
    source_class = source.split("__", 1)[-1]
    destination_class = destination.split("__", 1)[-1]
    relationship = {
        "id": row.object_id,
        "brickMetadata": {
            "brickInverseRelationshipType": qualified(namespace, inverse) if inverse else None,
            "inverseRelationshipType": (
                qualified(namespace, f"{inverse}_{destination_class}_{source_class}")
                if inverse
                else None
            ),
            "brickSourceEntityType": source,
            "brickRelationshipType": row.relation_type_id,
            "brickDestinationEntityType": destination,
            "brickRelationshipName": row.relation,
            "brickInverseRelationshipName": inverse,
        },
        "brickRelationshipType": row.relation_type_id,
        destination: entity_json(destination, row.destination_top, row.destination_name),
    }
    return {
        **entity_json(source, row.source_top, row.source_name),
        row.object_id: relationship,
    }
