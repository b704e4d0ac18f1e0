"""Rules every item must pass, whatever its kind: its type's JSON schema (compiled once per
schema version, process-wide), server-derived ``brick*`` fields, and fields that never change."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft6Validator, Draft7Validator
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from shared.schemas.catalog import TypeSchema


class ItemRejected(Exception):
    """One item fails; the rest of its batch goes on. The message is the item's reason."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Stored:
    """What an upsert may not change about an existing item."""

    type_id: str
    derived: dict[str, Any]


# Keywords whose meaning jsonschema-rs and jsonschema agree on, for the drafts below: a schema
# made only of these (the generated Brick schemas are) gets the compiled fast path. Anything
# else (pattern, $ref, multipleOf, uniqueItems, if/then/else, unknown keywords...) may differ in
# corner cases, so such a schema is checked by jsonschema alone.
_ANNOTATIONS = {"$schema", "$comment", "title", "description", "default", "examples", "format"}
_KEYWORDS = {
    "type", "required", "additionalProperties", "items", "additionalItems", "minLength",
    "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf", "not", "propertyNames",
}  # fmt: skip
_SCHEMA_MAPS = {"properties"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "items"}
_SCHEMA_VALUES = {"additionalProperties", "additionalItems", "items", "not", "propertyNames"}
_FAST_DRAFTS: dict[Any, Any] = {
    Draft6Validator: jsonschema_rs.Draft6Validator,
    Draft7Validator: jsonschema_rs.Draft7Validator,
}


def _plain(schema: Any) -> bool:
    """Whether a schema uses only keywords both validators read alike (see above)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, dict):
            return False
        for key, value in node.items():
            if key in ("enum", "const"):
                values = value if key == "enum" and isinstance(value, list) else [value]
                if not all(v is None or isinstance(v, str) for v in values):
                    return False
            elif key in _SCHEMA_MAPS:
                if not isinstance(value, dict):
                    return False
                stack.extend(value.values())
            elif key in _KEYWORDS:
                if key in _SCHEMA_LISTS and isinstance(value, list):
                    stack.extend(value)
                elif key in _SCHEMA_VALUES and isinstance(value, dict | bool):
                    stack.append(value)
            elif key not in _ANNOTATIONS and not key.startswith("x-"):
                # x-* keys are extensions (the generated schemas carry x-brick): no draft
                # gives them a meaning, and neither validator reads them.
                return False
    return True


@dataclass(frozen=True, slots=True)
class Compiled:
    """jsonschema's validator (the reference, and the detailed errors) and, for a plain schema,
    jsonschema-rs's compiled one, which answers "valid" about a hundred times faster."""

    reference: Validator
    fast: Any | None

    def is_valid_fast(self, instance: Any) -> bool:
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(instance))
        except Exception:  # a value it cannot read (an integer beyond 64 bits): ask the reference
            return False


def _compile(schema: Any) -> Compiled:
    cls = validator_for(schema, default=Draft7Validator)
    cls.check_schema(schema)
    fast = None
    fast_cls = _FAST_DRAFTS.get(cls)
    if fast_cls is not None and _plain(schema):
        try:
            fast = fast_cls(schema, validate_formats=False)
        except Exception:
            fast = None  # the reference decides alone
    return Compiled(cls(schema), fast)


class ValidatorCache:
    """Compiled validators keyed by (type id, content hash): a new schema version gets a new
    entry, an unchanged one is compiled once per process."""

    def __init__(self, max_size: int = 4096) -> None:
        self._max_size = max_size
        self._validators: OrderedDict[tuple[str, str], Compiled] = OrderedDict()

    def get(self, type_schema: TypeSchema) -> Compiled:
        key = (type_schema.type_id, type_schema.content_sha256)
        compiled = self._validators.get(key)
        if compiled is None:
            compiled = _compile(type_schema.schema)
            self._validators[key] = compiled
            if len(self._validators) > self._max_size:
                self._validators.popitem(last=False)
        else:
            self._validators.move_to_end(key)
        return compiled

    def __len__(self) -> int:
        return len(self._validators)


VALIDATORS = ValidatorCache()


def check_schema(type_schema: TypeSchema, subject: Mapping[str, Any]) -> None:
    """The item against its type's schema. Only an item the fast path does not pass is walked by
    jsonschema, whose best match gives the reason, exactly as before the fast path existed."""
    try:
        compiled = VALIDATORS.get(type_schema)
        if compiled.is_valid_fast(subject):
            return
        error = best_match(compiled.reference.iter_errors(subject))
    except SchemaError as exc:
        raise ItemRejected(
            f"The schema of '{type_schema.type_id}' is not valid: {exc.message}"
        ) from exc
    except Exception as exc:
        # E.g. a $ref that does not resolve: this type's items fail, the batch goes on.
        raise ItemRejected(
            f"The schema of '{type_schema.type_id}' cannot be applied: {exc}"
        ) from exc
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the item"
        raise ItemRejected(
            f"Does not match the schema of '{type_schema.type_id}' (version "
            f"{type_schema.version}): {error.message} (at {where})"
        )


def with_derived(
    item: dict[str, Any], derived: dict[str, Any], type_schema: TypeSchema
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The object to store (the item plus the derived fields) and the one to validate.

    A client may send a derived field only with the value the server derives. A schema that
    closes its properties without declaring a derived field is validated without that field:
    derived fields are the server's, not the client's, to get right."""
    for name, value in derived.items():
        if name in item and item[name] != value:
            raise ItemRejected(
                f"{name} is derived by the server as '{value}'; the item sent "
                f"{json.dumps(item[name], ensure_ascii=False)}"
            )
    stored = {**item, **derived}
    schema = type_schema.schema
    declared = schema.get("properties", {}) if isinstance(schema, dict) else {}
    if not isinstance(schema, dict) or schema.get("additionalProperties", True) is not False:
        return stored, stored
    subject = {k: v for k, v in stored.items() if k not in derived or k in declared}
    return stored, subject


def check_unchanged(
    noun: str, type_field: str, stored: Stored | None, type_id: str, derived: dict[str, Any]
) -> None:
    if stored is None:
        return
    if stored.type_id != type_id:
        raise ItemRejected(
            f"{type_field} cannot change after creation: this {noun} is '{stored.type_id}', "
            f"the item says '{type_id}'"
        )
    for name, value in derived.items():
        if stored.derived.get(name) != value:
            raise ItemRejected(
                f"{name} cannot change after creation: it is '{stored.derived.get(name)}', "
                f"this item would make it '{value}'"
            )


def schema_default(type_schema: TypeSchema, field: str, fallback: str) -> str:
    properties = type_schema.schema.get("properties", {})
    value = properties.get(field, {}).get("default") if isinstance(properties, dict) else None
    return value if isinstance(value, str) and value else fallback


_ENTITY_DERIVED: dict[tuple[str, str], dict[str, str]] = {}


def entity_derived(type_schema: TypeSchema) -> dict[str, str]:
    """Memoised per schema version (every item of a type derives the same), see _entity_derived.
    Callers must not change the answer."""
    key = (type_schema.type_id, type_schema.content_sha256)
    derived = _ENTITY_DERIVED.get(key)
    if derived is None:
        if len(_ENTITY_DERIVED) > 4096:
            _ENTITY_DERIVED.clear()
        derived = _ENTITY_DERIVED[key] = _entity_derived(type_schema)
    return derived


def _entity_derived(type_schema: TypeSchema) -> dict[str, str]:
    """brickEntityType (top class), brickEntitySubType (the type) and brickEntityName, from the
    schema's defaults as the schema service generates them, else from its metadata."""
    namespace = type_schema.type_id.split("__", 1)[0]
    top_class = type_schema.metadata.get("topClass")
    top_type = f"{namespace}__{top_class}" if top_class else type_schema.type_id
    return {
        "brickEntityType": schema_default(type_schema, "brickEntityType", top_type),
        "brickEntitySubType": schema_default(
            type_schema, "brickEntitySubType", type_schema.type_id
        ),
        "brickEntityName": schema_default(
            type_schema, "brickEntityName", type_schema.class_name.replace("_", " ")
        ),
    }
