"""Finding and rewriting the ``$ref``s of a schema, and checking each one points somewhere.

A ``$ref`` is local (``#``, ``#/definitions/...``, ``#/$defs/...``) or names a registered
schema by its ``$id`` (without a semantic version: the latest version). Values of data
keywords (``enum``, ``const``, ``default``, ``examples``) are instances, not schemas, so an
object there with a ``"$ref"`` key is data and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import BadRequest
from shared.registry.ids import SchemaId, parse_schema_id, relative_id

DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})
# Keywords whose value maps names (not keywords) to subschemas.
NAME_MAP_KEYWORDS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"}
)


@dataclass(frozen=True, slots=True)
class RefSite:
    ref: str
    pointer: str  # JSON pointer of the subschema that holds the $ref ("" is the root)

    @property
    def where(self) -> str:
        return self.pointer or "the root"


@dataclass(frozen=True, slots=True)
class ExternalRef:
    site: RefSite
    target: SchemaId

    @property
    def key(self) -> str:
        """The definitions key of the bundled target: its $id as the $ref spells it."""
        return relative_id(self.site.ref.strip())


# An array index as RFC 6901 spells it: ASCII digits without a leading zero. str.isdigit()
# also admits '²', which int() refuses (a 500 instead of the $ref's 400).
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def map_refs(node: Any, replace: Callable[[RefSite], str], pointer: str = "") -> Any:
    """A copy of ``node`` with every ``$ref`` string replaced by ``replace(site)``."""
    if isinstance(node, list):
        return [map_refs(item, replace, f"{pointer}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    copy: dict[str, Any] = {}
    for key, value in node.items():
        here = f"{pointer}/{_escape(key)}"
        if key == "$ref" and isinstance(value, str):
            copy[key] = replace(RefSite(value, pointer))
        elif key in DATA_KEYWORDS:
            copy[key] = value
        elif key in NAME_MAP_KEYWORDS and isinstance(value, dict):
            copy[key] = {
                name: map_refs(sub, replace, f"{here}/{_escape(name)}")
                for name, sub in value.items()
            }
        else:
            copy[key] = map_refs(value, replace, here)
    return copy


def find_refs(schema: Any) -> list[RefSite]:
    found: list[RefSite] = []

    def record(site: RefSite) -> str:
        found.append(site)
        return site.ref

    map_refs(schema, record)
    return found


def is_local(ref: str) -> bool:
    return ref.startswith("#")


def resolves_locally(schema: Any, ref: str) -> bool:
    """Whether a local JSON-pointer ``$ref`` points at something in ``schema``.

    Plain-name fragments (``#anchor``) are not pointers and are left to the validator.
    """
    fragment = ref[1:]
    if not fragment or not fragment.startswith("/"):
        return True
    node = schema
    for raw in fragment[1:].split("/"):
        token = raw.replace("%25", "%").replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and _ARRAY_INDEX.fullmatch(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def external_refs(schema: dict[str, Any]) -> list[ExternalRef]:
    """Every non-local $ref, parsed; local refs must resolve. Raises 400 naming the $ref."""
    external = []
    for site in find_refs(schema):
        if is_local(site.ref):
            if not resolves_locally(schema, site.ref):
                raise BadRequest(
                    f"The $ref '{site.ref}' at {site.where} points to nothing in this schema"
                )
            continue
        if "#" in site.ref:
            raise BadRequest(
                f"The $ref '{site.ref}' at {site.where} has a fragment: a $ref to a registered "
                "schema must be its $id alone"
            )
        try:
            target = parse_schema_id(site.ref, "$ref")
        except BadRequest as error:
            raise BadRequest(
                f"The $ref '{site.ref}' at {site.where} is neither local ('#/definitions/...') "
                f"nor the $id of a registered schema: {error.message}"
            ) from error
        external.append(ExternalRef(site, target))
    return external


def require_pinned_refs(schema_id: SchemaId, refs: list[ExternalRef]) -> None:
    """A version with a semantic version is immutable, so everything it uses must be too."""
    if schema_id.semantic_version is None:
        return
    for ref in refs:
        if ref.target.semantic_version is None:
            raise BadRequest(
                "The schema $id includes a semantic version, therefore all sub-schema "
                "references ($ref) must also include a semantic version. The following $ref "
                f"does not include a semantic version: '{ref.site.ref}' (at {ref.site.where})"
            )
