"""The fields Apollo 1.2 gives every entity, whatever its type: ``labels`` and the GeoJSON
``geoLocation`` (a Point) and ``geoBoundary`` (a Polygon). Lists filter on them (migration 009
keeps them in indexed columns).

They belong to the ER service rather than to a type, so a type schema that closes its properties
without declaring them is checked without them, as it is for the derived ``brick*`` fields; they
are checked here instead, and a malformed one fails its item.
"""

from __future__ import annotations

import math
from typing import Any

from shared.er.validation import ItemRejected

V12_FIELDS = ("labels", "geoLocation", "geoBoundary")
MAX_LABELS = 1000
# GeoJSON objects that hold geometries, and where.
CONTAINERS = {"FeatureCollection": "features", "GeometryCollection": "geometries"}


def _position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(
            isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
            for n in value
        )
    )


def _geometries(value: Any) -> list[dict[str, Any]]:
    """Every geometry in a GeoJSON value: a geometry, a Feature, or a collection of them."""
    found, stack = [], [value]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind in CONTAINERS and isinstance(node.get(CONTAINERS[kind]), list):
            stack.extend(reversed(node[CONTAINERS[kind]]))
        elif kind == "Feature":
            stack.append(node.get("geometry"))
        elif isinstance(kind, str):
            found.append(node)
    return found


def _has(value: Any, kind: str) -> bool:
    for geometry in _geometries(value):
        if geometry.get("type") != kind:
            continue
        coordinates = geometry.get("coordinates")
        if kind == "Point" and _position(coordinates):
            return True
        if (
            kind == "Polygon"
            and isinstance(coordinates, list)
            and coordinates
            and isinstance(coordinates[0], list)
            and len(coordinates[0]) >= 3
            and all(_position(vertex) for vertex in coordinates[0])
        ):
            return True
    return False


def check_v12_fields(item: dict[str, Any]) -> None:
    labels = item.get("labels")
    if labels is not None and (
        not isinstance(labels, list)
        or len(labels) > MAX_LABELS
        or not all(isinstance(label, str) for label in labels)
    ):
        raise ItemRejected(f"labels must be a list of at most {MAX_LABELS} strings")
    for name, kind in (("geoLocation", "Point"), ("geoBoundary", "Polygon")):
        if item.get(name) is not None and not _has(item[name], kind):
            raise ItemRejected(
                f"{name} must be GeoJSON (a {kind}, a Feature or a FeatureCollection) holding a "
                f"{kind} with numeric coordinates"
            )


def without_undeclared_v12(subject: dict[str, Any], schema: Any) -> dict[str, Any]:
    """What the type schema validates: without the 1.2 fields a closed schema does not declare."""
    if not isinstance(schema, dict) or schema.get("additionalProperties", True) is not False:
        return subject
    declared = schema.get("properties", {})
    declared = declared if isinstance(declared, dict) else {}
    return {k: v for k, v in subject.items() if k not in V12_FIELDS or k in declared}
