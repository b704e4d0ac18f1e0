"""Is a body a valid JSON Schema? Checked against the metaschema its ``$schema`` names.

Synapse schemas are draft-07 unless they say otherwise, so that is the default.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from shared.errors import BadRequest

DEFAULT_DIALECT = "draft-07"
# Objects and arrays nested deeper than this are refused: the validator and the $ref walk
# recurse once per level, and a deeper body would exhaust Python's stack (a 500).
MAX_NESTING = 100
# Metaschema URI (normalised by _dialect_key) -> dialect name and validator class.
_DRAFTS: dict[str, tuple[str, type[Validator]]] = {
    "http://json-schema.org/draft-04/schema": ("draft-04", Draft4Validator),
    "http://json-schema.org/draft-06/schema": ("draft-06", Draft6Validator),
    "http://json-schema.org/draft-07/schema": ("draft-07", Draft7Validator),
    "http://json-schema.org/draft/2019-09/schema": ("2019-09", Draft201909Validator),
    "http://json-schema.org/draft/2020-12/schema": ("2020-12", Draft202012Validator),
}


def _dialect_key(uri: str) -> str:
    return uri.strip().rstrip("#").replace("https://", "http://", 1)


def validator_class(schema: dict[str, Any]) -> tuple[str, type[Validator]]:
    uri = schema.get("$schema")
    if uri is None:
        return DEFAULT_DIALECT, Draft7Validator
    if not isinstance(uri, str) or _dialect_key(uri) not in _DRAFTS:
        known = ", ".join(name for name, _ in _DRAFTS.values())
        raise BadRequest(
            f"Unsupported $schema {json.dumps(uri)}; supported: the metaschemas of {known}"
        )
    return _DRAFTS[_dialect_key(uri)]


def nesting_depth(value: Any) -> int:
    """How many objects and arrays deep ``value`` goes, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_against_metaschema(schema: dict[str, Any]) -> None:
    """Raise a 400 that says where and how the schema breaks its metaschema."""
    depth = nesting_depth(schema)
    if depth > MAX_NESTING:
        raise BadRequest(
            f"The schema nests objects and arrays {depth} levels deep; at most "
            f"{MAX_NESTING} are allowed"
        )
    dialect, cls = validator_class(schema)
    checker = cls(cls.META_SCHEMA)
    error = best_match(checker.iter_errors(schema))
    if error is None:
        return
    where = "".join(f"/{part}" for part in error.absolute_path) or "the root"
    raise BadRequest(
        f"The schema is not a valid JSON Schema ({dialect}): {error.message} (at {where})"
    )


def canonical_json(value: Any) -> str:
    """The normalised form hashed for jsonSHA256Hex: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
