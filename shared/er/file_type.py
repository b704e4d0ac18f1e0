"""The file entity type of the file-entity pages (``JCI_EXT__File``), for schema collections
that do not define it: every ER collection may hold its uploaded files as entities. A schema
collection that defines the type itself validates file entities with its own schema."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from shared.schemas.catalog import TypeSchema

FILE_TYPE = "JCI_EXT__File"
# The pages' sysData fields; file_description may be empty (nothing asks the uploader for it).
FILE_FIELDS = ("file_name", "file_description", "file_size", "file_type", "file_version")
_TEXT = {"type": "string"}
FILE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": FILE_TYPE,
    "type": "object",
    "required": ["id", "entityType", "entityName", "sysData"],
    "properties": {
        "id": _TEXT,
        "entityType": _TEXT,
        "entityName": _TEXT,
        "sysData": {
            "type": "object",
            "required": [*FILE_FIELDS, "version"],
            "properties": {
                "file_name": {"type": "string", "minLength": 1},
                "file_description": _TEXT,
                "file_size": {"type": "integer", "minimum": 0},
                "file_type": {"type": "string", "minLength": 1},
                "file_version": {"type": "string", "minLength": 1},
                "version": {"type": "integer", "minimum": 1},
            },
        },
    },
}
_SHA = hashlib.sha256(orjson.dumps(FILE_SCHEMA, option=orjson.OPT_SORT_KEYS)).hexdigest()


def builtin_file_type(schema_collection_id: str) -> TypeSchema:
    """The built-in type, as if it were version 1 of the schema collection's own."""
    return TypeSchema(
        FILE_TYPE, 1, schema_collection_id, "entitytypes", FILE_SCHEMA, _SHA,
        {"class": "File", "builtin": True},
    )  # fmt: skip


def with_file_type(
    types: dict[str, TypeSchema], schema_collection_id: str, named: Iterable[object]
) -> dict[str, TypeSchema]:
    """``types`` plus the built-in file type when ``named`` (the types a chunk names) holds it
    and the collection has none."""
    if FILE_TYPE not in types and FILE_TYPE in named:
        return {**types, FILE_TYPE: builtin_file_type(schema_collection_id)}
    return types
