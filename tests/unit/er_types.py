"""Hand-made type schemas for the unit tests, shaped as the schema service stores them."""

from __future__ import annotations

from typing import Any

from shared.releases.bundle import content_sha256
from shared.schemas.catalog import TypeSchema

NS = "BRICK_1_4"


def string(default: str | None = None) -> dict[str, Any]:
    return {"type": "string"} if default is None else {"type": "string", "default": default}


def type_schema(
    type_id: str,
    schema: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    *,
    schema_type: str = "entitytypes",
    collection_id: str = "Brick_1_4",
    version: int = 1,
) -> TypeSchema:
    return TypeSchema(
        type_id, version, collection_id, schema_type, schema, content_sha256(schema),
        metadata or {},
    )  # fmt: skip


def entity_type(
    class_name: str,
    top: str,
    ancestors: list[str],
    *,
    namespace: str = NS,
    defaults: bool = True,
    closed: bool = True,
    collection_id: str = "Brick_1_4",
    **extra_properties: Any,
) -> TypeSchema:
    """An entity type as a sync renders it; ``defaults=False`` leaves out the brick* defaults."""
    type_id = f"{namespace}__{class_name}"
    properties: dict[str, Any] = {
        "id": string(),
        "entityName": string(),
        "entityType": string(),
        "customData": {"type": "object"},
    }
    if defaults:
        properties |= {
            "brickEntityType": string(f"{namespace}__{top}"),
            "brickEntitySubType": string(type_id),
            "brickEntityName": string(class_name.replace("_", " ")),
        }
    properties |= extra_properties
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "type": "object",
        "required": ["id", "entityType", "entityName"],
        "properties": properties,
    }
    if closed:
        schema["additionalProperties"] = False
    metadata = {"class": class_name, "topClass": top, "ancestors": ancestors}
    return type_schema(type_id, schema, metadata, collection_id=collection_id)


def relationship_type(
    relation: str,
    pairs: list[tuple[str, str]],
    *,
    namespace: str = NS,
    name: str | None = None,
    collection_id: str = "Brick_1_4",
    closed: bool = True,
) -> TypeSchema:
    type_id = f"{namespace}__{name or relation}"
    fields = [
        "id", "sourceEntityId", "destinationEntityId", "relationshipName", "relationshipType",
        "sourceERCollectionId", "destinationERCollectionId", "brickRelationshipType",
        "brickSourceEntityType", "brickDestinationEntityType",
    ]  # fmt: skip
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "type": "object",
        "required": ["id", "sourceEntityId", "destinationEntityId", "relationshipType"],
        "properties": {f: string() for f in fields},
    }
    if closed:
        schema["additionalProperties"] = False
    metadata = {"relation": relation, "pairs": [{"source": s, "destination": d} for s, d in pairs]}
    return type_schema(
        type_id, schema, metadata, schema_type="relationshiptypes", collection_id=collection_id
    )
