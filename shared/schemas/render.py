"""Type schemas as stored: the seed's draft-06 shape, rendered for one collection's namespace.

Release entries are namespace-free (``AHU``); a collection's type ids carry its namespace
(``BRICK_1_4__AHU``). Every schema also carries an ``x-brick`` object (ignored by JSON Schema
validation) with what the ER service needs and what makes a changed release show up as
"updated": class, top class, parents, tags, definition, deprecation; for relationship types the
relation, the top classes and the allowed (source, destination) pairs. Hand-made schemas posted
to ``POST /{T}`` may carry the same ``x-brick`` object; ``metadata_for`` reads it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import SchemaError

from shared.releases.bundle import content_sha256

DRAFT_06 = "http://json-schema.org/draft-06/schema#"
ENTITY_TYPES, RELATIONSHIP_TYPES = "entitytypes", "relationshiptypes"
MESSAGE_TYPES, EVENT_TYPES = "messagetypes", "eventtypes"
# The types a release generates (Brick); messagetypes and eventtypes are plain JSON schemas.
SCHEMA_TYPES = (ENTITY_TYPES, RELATIONSHIP_TYPES)
PLAIN_TYPES = (MESSAGE_TYPES, EVENT_TYPES)
ALL_TYPES = SCHEMA_TYPES + PLAIN_TYPES
# The doc's key naming a schema's type id, per schema type (createSchema, getSystemdata).
SYS_KEYS = {
    ENTITY_TYPES: "sysEntityType",
    RELATIONSHIP_TYPES: "sysRelationType",
    MESSAGE_TYPES: "sysMessageType",
    EVENT_TYPES: "sysEventType",
}
# Posted type ids: the doc's own (Brick:Timeseries) and the generated form (BRICK_1_4__AHU).
TYPE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,254}$")
EXTENSION = "x-brick"
SCHEMA_METADATA = "schemaMetadata"
# Generated entity types declare the seed's three; a posted one needs only an id (the doc's
# own example declares id, entityType, timeseriesId and customData).
ENTITY_REQUIRED = ["id", "entityType", "entityName"]
POSTED_ENTITY_REQUIRED = ["id"]
RELATIONSHIP_REQUIRED = ["id", "sourceEntityId", "destinationEntityId", "relationshipType"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One type schema ready to store, or the reason it cannot be."""

    type_id: str
    schema: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()
    error: str | None = None

    @property
    def sha256(self) -> str:
        return content_sha256(self.schema)


def type_id(namespace: str, name: str) -> str:
    return f"{namespace}__{name}"


def _string(description: str, default: str | None = None) -> dict[str, Any]:
    prop: dict[str, Any] = {"description": description, "type": "string"}
    if default is not None:
        prop = {"default": default, **prop}
    return prop


CUSTOM_DATA = {"description": "Dictionary where Customer can add any custom data", "type": "object"}


def entity_schema(namespace: str, entry: dict[str, Any]) -> Rendered:
    tid = type_id(namespace, entry["name"])
    if "error" in entry:
        return Rendered(tid, error=entry["error"])
    extension = {
        key: entry[key]
        for key in (
            "topClass",
            "parents",
            "ancestors",
            "tags",
            "definition",
            "deprecated",
            "replacedBy",
        )
        if key in entry
    }
    schema: dict[str, Any] = {
        "$schema": DRAFT_06,
        "description": f"Schema for Entity {tid}",
        "additionalProperties": False,
        "type": "object",
        "title": tid,
        "required": list(ENTITY_REQUIRED),
        "properties": {
            "entityName": _string("entity name"),
            "entityType": _string("entity type"),
            "brickEntityType": _string("entity type", type_id(namespace, entry["topClass"])),
            "brickEntitySubType": _string("entity subtype", tid),
            "customData": dict(CUSTOM_DATA),
            "id": _string("The unique identifier for the entity"),
            "brickEntityName": _string("entity name", entry["label"]),
        },
        EXTENSION: {"class": entry["name"], **extension},
    }
    metadata = {
        "class": entry["name"],
        "topClass": entry["topClass"],
        "parents": entry["parents"],
        "ancestors": entry["ancestors"],
        "definition": entry["definition"],
        "deprecated": entry["deprecated"],
        **({"replacedBy": entry["replacedBy"]} if entry.get("replacedBy") else {}),
    }
    return Rendered(tid, schema, metadata, tuple(entry["tags"]))


def relationship_schema(namespace: str, entry: dict[str, Any]) -> Rendered:
    tid = type_id(namespace, entry["name"])
    if "error" in entry:
        return Rendered(tid, error=entry["error"])
    pairs = entry["pairs"]
    schema = {
        "$schema": DRAFT_06,
        "description": f"Schema for Relationship {tid}",
        "additionalProperties": False,
        "type": "object",
        "title": tid,
        "required": list(RELATIONSHIP_REQUIRED),
        "properties": {
            "id": _string("The unique identifier for the relationship"),
            "sourceEntityId": _string("id of the source entity"),
            "destinationEntityId": _string("id of the destination entity"),
            "relationshipName": _string("relationship name"),
            "relationshipType": _string("relationship type"),
            "sourceERCollectionId": _string("ER collection of the source entity"),
            "destinationERCollectionId": _string("ER collection of the destination entity"),
            "customData": dict(CUSTOM_DATA),
            # Derived by the ER service when it writes a relationship: this type's id, and the
            # entity types of the two ends (which depend on the entities, so they have no default).
            "brickRelationshipType": _string("relationship type", tid),
            "brickSourceEntityType": _string("entity type of the source entity"),
            "brickDestinationEntityType": _string("entity type of the destination entity"),
        },
        EXTENSION: {
            "relation": entry["relation"],
            "source": entry["source"],
            "destination": entry["destination"],
            "definition": entry.get("definition"),
            "pairs": pairs,
        },
    }
    metadata = {
        "relation": entry["relation"],
        "source": entry["source"],
        "destination": entry["destination"],
        "pairs": pairs,
        # owl:inverseOf from the release (the ontology graph names each object's inverse).
        **({"inverse": entry["inverse"]} if entry.get("inverse") else {}),
    }
    return Rendered(tid, schema, metadata)


def render_release(namespace: str, schema_type: str, release: dict[str, Any]) -> list[Rendered]:
    render = entity_schema if schema_type == ENTITY_TYPES else relationship_schema
    return [render(namespace, entry) for entry in release[schema_type]]


# Hand-made schemas -------------------------------------------------------------------------


def posted_type_id(schema_type: str, schema: Any) -> str | None:
    """The type id a posted schema names: its ``sys*Type`` key, else (Brickyard's first form)
    its ``title``; None when it names none or is not an object."""
    if not isinstance(schema, dict):
        return None
    for key in (SYS_KEYS[schema_type], "title"):
        value = schema.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def check_posted(namespace: str, schema_type: str, tid: str, schema: dict[str, Any]) -> Rendered:
    """Validate one schema posted to ``POST /{T}`` and derive its metadata and tags."""
    prefix = f"{namespace}__"
    # '__' marks the namespaced form a sync writes: only the collection's own namespace may use
    # it, so no one can take a type id a later sync of another collection will need.
    # fullmatch: with match, '$' would let a trailing newline through.
    if not TYPE_ID.fullmatch(tid) or ("__" in tid and not tid.startswith(prefix)):
        return Rendered(
            tid,
            error=f"the type id must match {TYPE_ID.pattern}, and one with '__' must start "
            f"with the collection's namespace '{prefix}'",
        )
    try:
        Draft6Validator.check_schema(schema)
    except SchemaError as exc:
        return Rendered(tid, error=f"not a valid draft-06 JSON schema: {exc.message}")
    if schema_type in PLAIN_TYPES:
        return Rendered(tid, schema, {}, ())
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return Rendered(
            tid, error="the schema must describe an object ('type': 'object', 'properties')"
        )
    needed = POSTED_ENTITY_REQUIRED if schema_type == ENTITY_TYPES else RELATIONSHIP_REQUIRED
    missing = [p for p in needed if p not in schema["properties"]]
    if missing:
        return Rendered(tid, error=f"the schema must declare the properties {', '.join(missing)}")
    extension = schema.get(EXTENSION, {})
    declared = schema.get(SCHEMA_METADATA, {})
    for key, value in ((EXTENSION, extension), (SCHEMA_METADATA, declared)):
        if not isinstance(value, dict):
            return Rendered(tid, error=f"'{key}' must be an object")
    try:
        metadata, tags = metadata_for(namespace, schema_type, tid, schema, extension, declared)
    except (TypeError, ValueError, KeyError) as exc:
        return Rendered(tid, error=f"'{EXTENSION}' or '{SCHEMA_METADATA}' is malformed: {exc}")
    return Rendered(tid, schema, metadata, tags)


def _strings(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings")
    return value


def _default(schema: dict[str, Any], prop: str, namespace: str) -> str | None:
    value = schema["properties"].get(prop, {}).get("default")
    if isinstance(value, str) and value:
        return value.split("__", 1)[1] if value.startswith(f"{namespace}__") else value
    return None


def class_of(namespace: str, type_id: str) -> str:
    """A type id as a namespace-free class name (metadata compares classes across releases)."""
    return type_id.split("__", 1)[1] if type_id.startswith(f"{namespace}__") else type_id


def metadata_for(
    namespace: str,
    schema_type: str,
    tid: str,
    schema: dict[str, Any],
    extension: dict[str, Any],
    declared: dict[str, Any],
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``x-brick`` first, then the doc's ``schemaMetadata`` (entityIsSubClassOf, entityTypeTags)."""
    name = class_of(namespace, tid)
    if schema_type == ENTITY_TYPES:
        parents = _strings(extension.get("parents"), "parents") or [
            class_of(namespace, parent)
            for parent in _strings(declared.get("entityIsSubClassOf"), "entityIsSubClassOf")
        ]
        ancestors = _strings(extension.get("ancestors"), "ancestors") or parents
        top = extension.get("topClass") or _default(schema, "brickEntityType", namespace) or name
        metadata = {
            "class": extension.get("class") or name,
            "topClass": top,
            "parents": parents,
            "ancestors": sorted(set(ancestors) | ({top} - {name})),
            "definition": extension.get("definition"),
            "deprecated": bool(extension.get("deprecated", False)),
            **({"replacedBy": extension["replacedBy"]} if extension.get("replacedBy") else {}),
        }
        tags = set(_strings(extension.get("tags"), "tags"))
        tags |= set(_strings(declared.get("entityTypeTags"), "entityTypeTags"))
        return metadata, tuple(sorted(tags))
    source = extension.get("source") or _default(schema, "brickSourceEntityType", namespace)
    destination = extension.get("destination") or _default(
        schema, "brickDestinationEntityType", namespace
    )
    pairs = extension.get("pairs")
    if pairs is None:
        pairs = [{"source": source, "destination": destination}] if source and destination else []
    if not isinstance(pairs, list) or not all(
        isinstance(p, dict)
        and isinstance(p.get("source"), str)
        and isinstance(p.get("destination"), str)
        for p in pairs
    ):
        raise ValueError("'pairs' must be a list of {source, destination} strings")
    relation = extension.get("relation") or _default(schema, "brickRelationshipType", namespace)
    metadata = {
        "relation": relation or name,
        "source": source,
        "destination": destination,
        "pairs": [{"source": p["source"], "destination": p["destination"]} for p in pairs],
    }
    if isinstance(extension.get("inverse"), str):
        metadata["inverse"] = extension["inverse"]
    return metadata, ()
