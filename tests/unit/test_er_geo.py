"""The Apollo 1.2 fields every entity may carry: labels, geoLocation and geoBoundary."""

from __future__ import annotations

from typing import Any

import pytest

from shared.er.geo import MAX_LABELS, check_v12_fields, without_undeclared_v12
from shared.er.validation import ItemRejected

POINT = {"type": "Point", "coordinates": [10.5, 59.9]}
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}


def rejection(item: dict[str, Any]) -> str:
    with pytest.raises(ItemRejected) as caught:
        check_v12_fields(item)
    return str(caught.value)


@pytest.mark.parametrize(
    "item",
    [
        {},
        {"labels": None, "geoLocation": None, "geoBoundary": None},
        {"labels": []},
        {"labels": ["a"] * MAX_LABELS},
        {"geoLocation": POINT, "geoBoundary": SQUARE},
        {"geoLocation": {"type": "Point", "coordinates": [1, 2, 3]}},
        {"geoLocation": {"type": "Feature", "geometry": POINT}},
        {
            "geoLocation": {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "geometry": POINT}],
            }
        },
        {"geoBoundary": {"type": "GeometryCollection", "geometries": [POINT, SQUARE]}},
    ],
)
def test_accepted(item: dict[str, Any]) -> None:
    check_v12_fields(item)


@pytest.mark.parametrize("labels", ["a", ["a", 1], ["a"] * (MAX_LABELS + 1), {"a": 1}])
def test_labels_are_a_list_of_strings(labels: Any) -> None:
    assert rejection({"labels": labels}) == f"labels must be a list of at most {MAX_LABELS} strings"


POINT_MESSAGE = (
    "geoLocation must be GeoJSON (a Point, a Feature or a FeatureCollection) holding a Point with "
    "numeric coordinates"
)
POLYGON_MESSAGE = (
    "geoBoundary must be GeoJSON (a Polygon, a Feature or a FeatureCollection) holding a Polygon "
    "with numeric coordinates"
)


@pytest.mark.parametrize(
    "value",
    [
        "59.9,10.5",
        [10.5, 59.9],
        {"type": "Point"},
        {"type": "Point", "coordinates": [1]},
        {"type": "Point", "coordinates": [1, "2"]},
        {"type": "Point", "coordinates": [1, True]},
        {"type": "Point", "coordinates": [1, float("nan")]},
        {"type": "Point", "coordinates": [1, float("inf")]},
        {"type": "Point", "coordinates": "1,2"},
        SQUARE,
        {"type": "Feature", "geometry": None},
        {"type": "FeatureCollection", "features": "x"},
        {"type": "FeatureCollection", "features": [SQUARE]},
        {"kind": "Point", "coordinates": [1, 2]},
    ],
)
def test_a_location_holds_a_point(value: Any) -> None:
    assert rejection({"geoLocation": value}) == POINT_MESSAGE


@pytest.mark.parametrize(
    "value",
    [
        POINT,
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": "x"},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]},
        {"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, "1"]]]},
        {"type": "GeometryCollection", "geometries": [POINT]},
    ],
)
def test_a_boundary_holds_a_polygon(value: Any) -> None:
    assert rejection({"geoBoundary": value}) == POLYGON_MESSAGE


def test_a_polygon_of_three_vertices_is_enough() -> None:
    check_v12_fields(
        {"geoBoundary": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}
    )


def test_one_good_geometry_in_a_collection_is_enough() -> None:
    collection = {"type": "GeometryCollection", "geometries": [{"type": "Point"}, SQUARE]}
    check_v12_fields({"geoBoundary": collection})


def test_closed_schemas_are_checked_without_the_undeclared_fields() -> None:
    subject = {"id": "a", "labels": ["x"], "geoLocation": POINT, "geoBoundary": SQUARE}
    closed = {"additionalProperties": False, "properties": {"id": {}, "labels": {}}}
    assert without_undeclared_v12(subject, closed) == {"id": "a", "labels": ["x"]}
    assert without_undeclared_v12(subject, {"additionalProperties": False}) == {"id": "a"}
    assert without_undeclared_v12(subject, {"additionalProperties": False, "properties": []}) == {
        "id": "a"
    }
    for schema in ({}, {"additionalProperties": True}, {"additionalProperties": {}}, True, None):
        assert without_undeclared_v12(subject, schema) is subject
