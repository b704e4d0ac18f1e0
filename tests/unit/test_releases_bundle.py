"""Release bundles: shape checks, normal form, lineages, cycles and relation grouping."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import BadRequest
from shared.releases.bundle import MAX_PARENTS, check_shape, content_sha256, normalise


def bundle(entities: list[dict[str, Any]], relations: list[dict[str, Any]] | None = None) -> Any:
    return {
        "releaseLine": "acme",
        "version": "1.0",
        "tags": ["Site"],
        "entitytypes": entities,
        "relationshiptypes": relations or [],
    }


def e(name: str, *parents: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "parents": list(parents), **extra}


CLASSES = [
    e("Equipment"),
    e("HVAC_Equipment", "Equipment", tags=["HVAC"]),
    e("AHU", "HVAC_Equipment", tags=["AHU", "HVAC"], label="Air handler"),
    e("Point"),
    e("Sensor", "Point"),
    e("Widget"),  # a root that is no Brick top class
    e("Gadget", "Widget"),
]


def by_name(normal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in normal["entitytypes"]}


def test_entities_get_lineage_top_class_labels_and_tags() -> None:
    normal = normalise(bundle(CLASSES))
    entities = by_name(normal)
    assert entities["AHU"] == {
        "name": "AHU",
        "label": "Air handler",
        "parents": ["HVAC_Equipment"],
        "tags": ["AHU", "HVAC"],
        "definition": None,
        "deprecated": False,
        "ancestors": ["Equipment", "HVAC_Equipment"],
        "topClass": "Equipment",
    }
    assert entities["HVAC_Equipment"]["label"] == "HVAC Equipment"
    assert entities["Equipment"]["topClass"] == "Equipment"
    assert entities["Gadget"]["topClass"] == "Widget"  # the root of its hierarchy
    assert entities["Widget"]["topClass"] == "Widget"
    assert normal["tags"] == ["AHU", "HVAC", "Site"]
    assert [x["name"] for x in normal["entitytypes"]] == sorted(entities)
    assert (normal["releaseLine"], normal["version"]) == ("acme", "1.0")


def test_a_declared_top_class_and_replacement_are_kept() -> None:
    entities = by_name(
        normalise(bundle([e("Old", topClass="Point", replacedBy="New", deprecated=True)]))
    )
    assert entities["Old"]["topClass"] == "Point"
    assert entities["Old"]["replacedBy"] == "New"
    assert entities["Old"]["deprecated"] is True


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (e("1AHU"), "entity type name '1AHU' must match"),
        (e("AHU\n"), "entity type name 'AHU\n' must match"),
        (e("AHU", parents=None) | {"parents": "Equipment"}, "'parents' and 'tags' must be lists"),
        (e("AHU", tags=[1]), "'parents' and 'tags' must be lists of strings"),
        (e("AHU", *[f"P{n}" for n in range(MAX_PARENTS + 1)]), f"at most {MAX_PARENTS} parents"),
        (e("AHU", label=5), "'label' must be a string"),
        (e("AHU", definition=[]), "'definition' must be a string"),
        (e("AHU", deprecated="yes"), "'deprecated' must be true or false"),
    ],
)
def test_a_bad_entry_is_kept_with_its_error(entry: dict[str, Any], error: str) -> None:
    entities = by_name(normalise(bundle([entry])))
    (only,) = entities.values()
    assert set(only) == {"name", "error"}
    assert only["error"].startswith(error)


def test_parents_on_a_cycle_and_their_children_are_errors() -> None:
    entries = [
        e("A", "B"),
        e("B", "A"),
        e("C", "A"),
        e("Self", "Self"),
        e("Fine"),
        e("Orphan", "X"),
    ]
    entities = by_name(normalise(bundle(entries)))
    assert entities["A"]["error"] == entities["B"]["error"] == "its parents form a cycle"
    assert entities["Self"]["error"] == "its parents form a cycle"
    assert entities["C"]["error"] == "unknown or invalid parent(s): A"
    assert entities["Orphan"]["error"] == "unknown or invalid parent(s): X"
    assert "error" not in entities["Fine"]


def test_relations_are_grouped_by_top_classes_and_minimised() -> None:
    relations = [
        {
            "relation": "feeds",
            "definition": "flows to",
            "pairs": [
                {"source": "Equipment", "destination": "Equipment"},
                {"source": "AHU", "destination": "HVAC_Equipment"},  # admitted by the first
                {"source": "Sensor", "destination": "Point"},
            ],
        },
        {"relation": "bad name!", "pairs": [{"source": "AHU", "destination": "AHU"}]},
        {"relation": "empty", "pairs": []},
        {"relation": "odd", "pairs": [{"source": "AHU"}]},
        {"relation": "unknown", "pairs": [{"source": "AHU", "destination": "Nope"}]},
    ]
    normal = normalise(bundle(CLASSES, relations))
    assert normal["relationshiptypes"] == sorted(
        normal["relationshiptypes"], key=lambda r: r["name"]
    )
    found = {r["name"]: r for r in normal["relationshiptypes"]}
    assert found["feeds_Equipment_Equipment"] == {
        "name": "feeds_Equipment_Equipment",
        "relation": "feeds",
        "source": "Equipment",
        "destination": "Equipment",
        "definition": "flows to",
        "pairs": [{"source": "Equipment", "destination": "Equipment"}],
    }
    assert found["feeds_Point_Point"]["pairs"] == [{"source": "Sensor", "destination": "Point"}]
    assert found["bad name!"]["error"].startswith("relation name 'bad name!' must match")
    assert found["empty"]["error"] == (
        "'pairs' must be a non-empty list of {source, destination} objects"
    )
    assert found["odd"]["error"] == (
        "each pair must be an object with 'source' and 'destination' strings"
    )
    assert found["unknown"]["error"] == "pair (AHU, Nope) names unknown entity type(s): Nope"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"releaseLine": "Acme"}, "'releaseLine' is required and must match"),
        ({"releaseLine": "acme\n"}, "'releaseLine' is required and must match"),
        ({"version": None}, "'version' is required and must match"),
        ({"version": "1.0\n"}, "'version' is required and must match"),
        ({"entitytypes": {"a": 1}}, "'entitytypes' must be a list of objects"),
        ({"relationshiptypes": [1]}, "'relationshiptypes' must be a list of objects"),
        ({"entitytypes": [{"name": 1}]}, "Every entity type needs a 'name' (a string)"),
        ({"entitytypes": [e("A"), e("A"), e("B"), e("B")]}, "Entity type names repeat: A, B"),
        ({"relationshiptypes": [{"pairs": []}]}, "Every relationship type needs a 'relation'"),
        ({"tags": "x"}, "'tags' must be a list of strings"),
    ],
)
def test_a_malformed_bundle_is_a_400(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_shape({**bundle(CLASSES), **change})
    assert caught.value.message.startswith(message)


def test_a_bundle_must_be_an_object() -> None:
    with pytest.raises(BadRequest, match="A release bundle must be a JSON object"):
        check_shape([])


def test_content_hash_ignores_key_order_but_not_values() -> None:
    assert content_sha256({"a": 1, "b": "é"}) == content_sha256({"b": "é", "a": 1})
    assert content_sha256({"a": 1}) != content_sha256({"a": 2})
    assert len(content_sha256(None)) == 64
