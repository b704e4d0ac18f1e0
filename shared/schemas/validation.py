"""Validate objects against type schemas (validateSchema, validateOntology) and keep samples."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from jsonschema import Draft6Validator
from referencing.exceptions import Unresolvable

from shared.errors import BadRequest, NotFound, PreconditionFailed, Unprocessable
from shared.releases.catalog import ReleaseCatalog
from shared.schemas.acl import Role, require_role
from shared.schemas.render import ENTITY_TYPES, RELATIONSHIP_TYPES
from shared.schemas.rows import TypeSchemaRow
from shared.schemas.rules import lineage
from shared.schemas.store import samples as samples_store
from shared.schemas.store import typeschemas as typeschemas_store
from shared.schemas.typeschemas import LABELS, TypeSchemas, version_number

# The field of a validated object that names its type, per schema type.
TYPE_FIELDS = {
    "entitytypes": "entityType",
    "relationshiptypes": "relationshipType",
    "messagetypes": "messageType",
    "eventtypes": "eventType",
}
MAX_ERRORS = 20


def problems(schema: dict[str, Any], instance: Any) -> list[str]:
    try:
        errors = list(Draft6Validator(schema).iter_errors(instance))
    except (Unresolvable, re.error, RecursionError) as exc:
        # A stored schema can hold a $ref to nowhere (remote refs are never fetched).
        raise Unprocessable(f"The schema cannot be used to validate: {exc}") from exc
    errors.sort(key=lambda e: [str(part) for part in e.absolute_path])
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in errors[:MAX_ERRORS]
    ]


def named_type(schema_type: str, obj: Any, what: str = "The body") -> str:
    field = TYPE_FIELDS[schema_type]
    if not isinstance(obj, dict):
        raise BadRequest(f"{what} must be a JSON object")
    value = obj.get(field)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{what} must name its type in '{field}' (mandatory)")
    return value


@dataclass(slots=True)
class Validation:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    @property
    def types(self) -> TypeSchemas:
        return TypeSchemas(self.pool, self.catalog)

    async def schema_for(
        self, schema_type: str, type_id: str, version: str | None
    ) -> TypeSchemaRow:
        """The version to validate against: 404 unknown, 412 when the type is not active."""
        number = None if not version else version_number(version)
        row = await typeschemas_store.get(self.pool, type_id, schema_type, number)
        if row is None:
            what = f"version {version} of " if version else ""
            raise NotFound(f"No {what}{LABELS[schema_type]} '{type_id}'")
        if not row.active:
            raise PreconditionFailed(f"The {LABELS[schema_type]} '{type_id}' is not active")
        return row

    async def validate(self, schema_type: str, body: Any, version: str | None) -> dict[str, Any]:
        row = await self.schema_for(schema_type, named_type(schema_type, body), version)
        found = problems(row.schema, body)
        reason = "[" + (", ".join(found) or "Validation successful") + "]"
        return answer(row, reason, not found)

    async def ontology(self, body: Any, version: str | None) -> dict[str, Any]:
        """The relationship against its schema, and its ends against its rules (pairs)."""
        relationship = body.get("relationshipObj") if isinstance(body, dict) else None
        rel_type = named_type(RELATIONSHIP_TYPES, relationship, "relationshipObj")
        row = await self.schema_for(RELATIONSHIP_TYPES, rel_type, version)
        found = problems(row.schema, relationship)
        ends = {}
        for end in ("source", "destination"):
            obj = body.get(f"{end}EntityObj")
            if obj is not None:
                entity_type = named_type(ENTITY_TYPES, obj, f"{end}EntityObj")
                entity = await typeschemas_store.get(self.pool, entity_type, ENTITY_TYPES, None)
                if entity is None or not entity.active:
                    found.append(f"{end}EntityObj: no active entity type '{entity_type}'")
                else:
                    ends[end] = (entity_type, lineage(entity))
        pairs = row.metadata.get("pairs", [])
        if ends and not any(
            all(p[end] in classes for end, (_, classes) in ends.items()) for p in pairs
        ):
            named = ", ".join(f"{end} '{entity_type}'" for end, (entity_type, _) in ends.items())
            allowed = ", ".join(f"({p['source']}, {p['destination']})" for p in pairs) or "none"
            found.append(f"'{rel_type}' does not allow {named}; allowed pairs: {allowed}")
        return answer(row, found or ["Validation successful"], not found)

    async def save_sample(
        self, schema_type: str, type_id: str, version: str | None, body: Any, principal_id: int
    ) -> str:
        if not isinstance(body, dict):
            raise BadRequest("The sample must be a JSON object")
        row = await self.types.get(schema_type, type_id, version)
        await require_role(self.pool, row.collection_id, principal_id, Role.editor)
        found = problems(row.schema, body)
        if found:
            raise Unprocessable(f"The sample does not match {type_id}: {'; '.join(found)}")
        await samples_store.save(self.pool, type_id, row.version, body, principal_id)
        kind = schema_type[:-5]
        return f"Sample {kind} successfully created for [{type_id}] against version [{row.version}]"

    async def sample(self, schema_type: str, type_id: str, version: str | None) -> Any:
        number = None if version is None else version_number(version)
        found = await samples_store.latest(self.pool, type_id, schema_type, number)
        if found is None:
            at = f" version {version}" if version else ""
            raise NotFound(f"No sample object for {LABELS[schema_type]} '{type_id}'{at}")
        return found


def answer(row: TypeSchemaRow, reason: Any, valid: bool) -> dict[str, Any]:
    return {
        "validationId": str(uuid.uuid4()),
        "reason": reason,
        "version": str(row.version),
        "schema": row.schema,
        "valid": valid,
    }
