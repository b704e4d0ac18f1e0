"""Judging one entity or relationship against everything loaded for its chunk, in memory.

Each check returns the row to write or raises :class:`ItemRejected` with the item's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.er.derived import relationship_derived
from shared.er.geo import check_v12_fields, without_undeclared_v12
from shared.er.validation import (
    ItemRejected,
    Stored,
    check_schema,
    check_unchanged,
    entity_derived,
    with_derived,
)
from shared.schemas.catalog import TypeSchema


@dataclass(frozen=True, slots=True)
class EntityRow:
    id: str
    entity_type: str
    derived: dict[str, Any]
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RelationshipRow:
    id: str
    relationship_type: str
    source_entity_id: str
    destination_collection_id: str
    destination_entity_id: str
    derived: dict[str, Any]
    body: dict[str, Any]


@dataclass(slots=True)
class EntityContext:
    schema_collection_id: str
    types: dict[str, TypeSchema]
    stored: dict[str, Stored] = field(default_factory=dict)


@dataclass(slots=True)
class RelationshipContext:
    collection_id: str
    schema_collection_id: str
    # Collections as the items name them -> (collection id, its schema collection).
    collections: dict[str, tuple[str, str]]
    types: dict[str, TypeSchema]
    # (collection id, entity id) -> entity type, for the entities this chunk refers to.
    entity_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # (schema collection id, entity type id) -> its schema, for class lineages.
    entity_schemas: dict[tuple[str, str], TypeSchema] = field(default_factory=dict)
    stored: dict[str, Stored] = field(default_factory=dict)
    # (relationship type, source schema, destination schema) -> derived fields, or the reason
    # the pair is refused: the same few pairs recur across a batch, so each is judged once.
    pairs: dict[tuple[str, int, int], dict[str, str] | str] = field(default_factory=dict)

    def schema_collection_of(self, collection_id: str) -> str:
        for named_id, schema_collection_id in self.collections.values():
            if named_id == collection_id:
                return schema_collection_id
        return self.schema_collection_id


def required_string(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise ItemRejected(f"{name} is required (a non-empty string)")
    return value


def check_entity(item: dict[str, Any], context: EntityContext) -> EntityRow:
    entity_type = required_string(item, "entityType")
    type_schema = context.types.get(entity_type)
    if type_schema is None:
        raise ItemRejected(
            f"entityType '{entity_type}' is not an entity type of schema collection "
            f"'{context.schema_collection_id}'"
        )
    derived = entity_derived(type_schema)
    stored, subject = with_derived(item, derived, type_schema)
    check_unchanged("entity", "entityType", context.stored.get(item["id"]), entity_type, derived)
    check_v12_fields(item)
    check_schema(type_schema, without_undeclared_v12(subject, type_schema.schema))
    return EntityRow(item["id"], entity_type, derived, stored)


def destination_collection(item: dict[str, Any], context: RelationshipContext) -> str:
    """Where the destination entity lives: the header's collection unless the item names both
    ends, the source being the header's collection and the destination another one."""
    source_name = item.get("sourceERCollectionId")
    destination_name = item.get("destinationERCollectionId")
    if source_name is None and destination_name is None:
        return context.collection_id
    if not isinstance(source_name, str) or source_name.lower() != context.collection_id.lower():
        raise ItemRejected(
            f"sourceERCollectionId must equal the ercollectionid header ('{context.collection_id}')"
        )
    # Both naming the header's collection: inside one collection, as the docs' reads show it.
    if destination_name is None or (
        isinstance(destination_name, str) and destination_name.lower() == source_name.lower()
    ):
        return context.collection_id
    if not isinstance(destination_name, str) or destination_name not in context.collections:
        raise ItemRejected("destinationERCollectionId must name a registered ercollection")
    return context.collections[destination_name][0]


def end_type(
    context: RelationshipContext, end: str, collection_id: str, entity_id: str
) -> tuple[str, TypeSchema]:
    """The entity type of one end of a relationship, and that type's schema."""
    entity_type = context.entity_types.get((collection_id, entity_id))
    if entity_type is None:
        raise ItemRejected(
            f"{end} entity '{entity_id}' does not exist in ercollection '{collection_id}'"
        )
    schema_collection_id = context.schema_collection_of(collection_id)
    type_schema = context.entity_schemas.get((schema_collection_id, entity_type))
    if type_schema is None:
        raise ItemRejected(
            f"The type '{entity_type}' of {end} entity '{entity_id}' is no longer an entity "
            f"type of schema collection '{schema_collection_id}'"
        )
    return entity_type, type_schema


def judge_pair(
    relationship_type: str,
    type_schema: TypeSchema,
    source_type: str,
    source_schema: TypeSchema,
    destination_type: str,
    destination_schema: TypeSchema,
) -> dict[str, str] | str:
    """The derived fields of a relationship between entities of these types, or the reason
    the relationship type refuses them."""
    if not type_schema.allows(source_schema, destination_schema):
        allowed = ", ".join(f"{s} -> {d}" for s, d in type_schema.pairs) or "none"
        return (
            f"relationshipType '{relationship_type}' does not allow source entity type "
            f"'{source_type}' with destination entity type '{destination_type}' "
            f"(allowed: {allowed})"
        )
    return relationship_derived(relationship_type, type_schema, source_schema, destination_schema)


def check_relationship(item: dict[str, Any], context: RelationshipContext) -> RelationshipRow:
    relationship_type = required_string(item, "relationshipType")
    type_schema = context.types.get(relationship_type)
    if type_schema is None:
        raise ItemRejected(
            f"relationshipType '{relationship_type}' is not a relationship type of schema "
            f"collection '{context.schema_collection_id}'"
        )
    source_id = required_string(item, "sourceEntityId")
    destination_id = required_string(item, "destinationEntityId")
    destination_collection_id = destination_collection(item, context)
    source_type, source_schema = end_type(context, "source", context.collection_id, source_id)
    destination_type, destination_schema = end_type(
        context, "destination", destination_collection_id, destination_id
    )
    key = (relationship_type, id(source_schema), id(destination_schema))
    verdict = context.pairs.get(key)
    if verdict is None:
        verdict = judge_pair(
            relationship_type, type_schema, source_type, source_schema,
            destination_type, destination_schema,
        )  # fmt: skip
        context.pairs[key] = verdict
    if isinstance(verdict, str):
        raise ItemRejected(verdict)
    derived = verdict
    stored, subject = with_derived(item, derived, type_schema)
    check_unchanged(
        "relationship",
        "relationshipType",
        context.stored.get(item["id"]),
        relationship_type,
        derived,
    )
    check_schema(type_schema, subject)
    return RelationshipRow(
        item["id"],
        relationship_type,
        source_id,
        destination_collection_id,
        destination_id,
        derived,
        stored,
    )
