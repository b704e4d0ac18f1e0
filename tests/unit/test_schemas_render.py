"""Type schemas rendered from a release, and hand-made ones checked with their metadata."""

from __future__ import annotations

from typing import Any

import pytest

from shared.schemas.render import (
    ENTITY_TYPES,
    EVENT_TYPES,
    RELATIONSHIP_TYPES,
    Rendered,
    check_posted,
    class_of,
    entity_schema,
    posted_type_id,
    relationship_schema,
    render_release,
)

NS = "BRICK_1_4"
AHU = {
    "name": "AHU",
    "label": "AHU",
    "parents": ["HVAC_Equipment"],
    "ancestors": ["Equipment", "HVAC_Equipment"],
    "tags": ["AHU", "Equipment"],
    "definition": "Air handling unit",
    "deprecated": False,
    "topClass": "Equipment",
}
FEEDS = {
    "name": "feeds_Equipment_Equipment",
    "relation": "feeds",
    "source": "Equipment",
    "destination": "Equipment",
    "definition": None,
    "pairs": [{"source": "Equipment", "destination": "Equipment"}],
}


def test_an_entity_type_renders_as_the_seed_shape() -> None:
    rendered = entity_schema(NS, AHU)
    assert rendered.type_id == f"{NS}__AHU" and rendered.error is None
    schema = rendered.schema
    assert schema is not None
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"
    assert schema["title"] == f"{NS}__AHU" and schema["additionalProperties"] is False
    assert schema["required"] == ["id", "entityType", "entityName"]
    assert schema["properties"]["brickEntityType"]["default"] == f"{NS}__Equipment"
    assert schema["properties"]["brickEntitySubType"]["default"] == f"{NS}__AHU"
    assert schema["properties"]["brickEntityName"]["default"] == "AHU"
    assert "default" not in schema["properties"]["entityName"]
    assert schema["x-brick"] == {
        "class": "AHU",
        "topClass": "Equipment",
        "parents": ["HVAC_Equipment"],
        "ancestors": ["Equipment", "HVAC_Equipment"],
        "tags": ["AHU", "Equipment"],
        "definition": "Air handling unit",
        "deprecated": False,
    }
    assert rendered.metadata == {
        "class": "AHU",
        "topClass": "Equipment",
        "parents": ["HVAC_Equipment"],
        "ancestors": ["Equipment", "HVAC_Equipment"],
        "definition": "Air handling unit",
        "deprecated": False,
    }
    assert rendered.tags == ("AHU", "Equipment")
    assert len(rendered.sha256) == 64


def test_the_extension_carries_only_what_the_entry_has() -> None:
    entry = {k: v for k, v in AHU.items() if k not in ("definition", "tags")} | {
        "definition": None,
        "tags": [],
        "replacedBy": "New_AHU",
    }
    extension = entity_schema(NS, entry).schema["x-brick"]  # type: ignore[index]
    assert extension["class"] == "AHU" and extension["replacedBy"] == "New_AHU"
    assert "label" not in extension and "name" not in extension


def test_a_failed_entry_renders_as_its_error() -> None:
    assert entity_schema(NS, {"name": "Bad", "error": "cycle"}) == Rendered(
        f"{NS}__Bad", error="cycle"
    )
    assert relationship_schema(NS, {"name": "bad", "error": "x"}) == Rendered(
        f"{NS}__bad", error="x"
    )


def test_a_relationship_type_renders_with_its_pairs() -> None:
    rendered = relationship_schema(NS, FEEDS)
    schema = rendered.schema
    assert schema is not None and rendered.type_id == f"{NS}__feeds_Equipment_Equipment"
    assert schema["required"] == ["id", "sourceEntityId", "destinationEntityId", "relationshipType"]
    assert schema["properties"]["brickRelationshipType"]["default"] == rendered.type_id
    assert "default" not in schema["properties"]["brickSourceEntityType"]
    assert rendered.metadata == {
        "relation": "feeds",
        "source": "Equipment",
        "destination": "Equipment",
        "pairs": FEEDS["pairs"],
    }
    assert rendered.tags == ()


def test_a_release_renders_per_schema_type() -> None:
    release = {ENTITY_TYPES: [AHU], RELATIONSHIP_TYPES: [FEEDS]}
    assert [r.type_id for r in render_release(NS, ENTITY_TYPES, release)] == [f"{NS}__AHU"]
    assert [r.type_id for r in render_release(NS, RELATIONSHIP_TYPES, release)] == [
        f"{NS}__feeds_Equipment_Equipment"
    ]


# Posted schemas ------------------------------------------------------------------------------


def posted(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"id": {"type": "string"}, **properties}}


def test_the_posted_type_id_is_the_sys_key_then_the_title() -> None:
    assert posted_type_id(ENTITY_TYPES, {"sysEntityType": "A", "title": "B"}) == "A"
    assert posted_type_id(ENTITY_TYPES, {"sysEntityType": "", "title": "B"}) == "B"
    assert posted_type_id(RELATIONSHIP_TYPES, {"sysRelationType": "R"}) == "R"
    assert posted_type_id(EVENT_TYPES, {"sysEventType": 5}) is None
    assert posted_type_id(ENTITY_TYPES, ["not", "an", "object"]) is None


@pytest.mark.parametrize("tid", ["", "-x", "a b", "x" * 256, "OTHER__AHU", "AHU\n", "é"])
def test_a_posted_type_id_must_be_plain_and_in_its_namespace(tid: str) -> None:
    rendered = check_posted(NS, ENTITY_TYPES, tid, posted())
    assert rendered.schema is None
    assert rendered.error is not None and rendered.error.startswith("the type id must match")


def test_posted_type_ids_that_pass() -> None:
    for tid in ("Brick:Timeseries", f"{NS}__AHU", "a" * 255, "x.y-z_1"):
        assert check_posted(NS, ENTITY_TYPES, tid, posted()).error is None, tid


def test_a_posted_schema_must_be_a_valid_draft_06_object_with_its_properties() -> None:
    assert check_posted(NS, ENTITY_TYPES, "T", {"type": "nope"}).error.startswith(  # type: ignore[union-attr]
        "not a valid draft-06 JSON schema: "
    )
    assert check_posted(NS, ENTITY_TYPES, "T", {"type": "string"}).error == (
        "the schema must describe an object ('type': 'object', 'properties')"
    )
    assert check_posted(NS, ENTITY_TYPES, "T", {"type": "object"}).error is not None
    assert check_posted(NS, RELATIONSHIP_TYPES, "R", posted()).error == (
        "the schema must declare the properties sourceEntityId, destinationEntityId, "
        "relationshipType"
    )
    assert check_posted(NS, ENTITY_TYPES, "T", {"type": "object", "properties": {}}).error == (
        "the schema must declare the properties id"
    )


def test_plain_types_need_only_a_valid_schema() -> None:
    rendered = check_posted(NS, EVENT_TYPES, "Evt", {"type": "string"})
    assert rendered == Rendered("Evt", {"type": "string"}, {}, ())


def test_entity_metadata_from_the_extension_and_schema_metadata() -> None:
    schema = posted(brickEntityType={"type": "string", "default": f"{NS}__Point"})
    schema["schemaMetadata"] = {
        "entityIsSubClassOf": [f"{NS}__Sensor", "Thing"],
        "entityTypeTags": ["Temp", "Air"],
    }
    schema["x-brick"] = {"tags": ["Air", "Sensor"], "definition": "d", "deprecated": 1}
    rendered = check_posted(NS, ENTITY_TYPES, f"{NS}__Temp_Sensor", schema)
    assert rendered.error is None
    assert rendered.metadata == {
        "class": "Temp_Sensor",
        "topClass": "Point",
        "parents": ["Sensor", "Thing"],
        "ancestors": ["Point", "Sensor", "Thing"],
        "definition": "d",
        "deprecated": True,
    }
    assert rendered.tags == ("Air", "Sensor", "Temp")


def test_the_extension_wins_over_schema_metadata() -> None:
    schema = posted()
    schema["x-brick"] = {
        "class": "Own",
        "topClass": "Equipment",
        "parents": ["P"],
        "ancestors": ["P", "Q"],
    }
    schema["schemaMetadata"] = {"entityIsSubClassOf": ["Ignored"]}
    metadata = check_posted(NS, ENTITY_TYPES, "Mine", schema).metadata
    assert metadata is not None
    assert (metadata["class"], metadata["topClass"], metadata["parents"]) == (
        "Own",
        "Equipment",
        ["P"],
    )
    assert metadata["ancestors"] == ["Equipment", "P", "Q"]


def test_an_entity_with_no_metadata_is_its_own_top() -> None:
    metadata = check_posted(NS, ENTITY_TYPES, "Lone", posted()).metadata
    assert metadata == {
        "class": "Lone",
        "topClass": "Lone",
        "parents": [],
        "ancestors": [],
        "definition": None,
        "deprecated": False,
    }


def test_relationship_metadata_from_defaults_or_the_extension() -> None:
    fields = ("sourceEntityId", "destinationEntityId", "relationshipType")
    schema = posted(**{f: {"type": "string"} for f in fields})
    schema["properties"] |= {
        "brickSourceEntityType": {"type": "string", "default": f"{NS}__Equipment"},
        "brickDestinationEntityType": {"type": "string", "default": "Point"},
        "brickRelationshipType": {"type": "string", "default": f"{NS}__hasPoint"},
    }
    metadata = check_posted(NS, RELATIONSHIP_TYPES, f"{NS}__hasPoint_x", schema).metadata
    assert metadata == {
        "relation": "hasPoint",
        "source": "Equipment",
        "destination": "Point",
        "pairs": [{"source": "Equipment", "destination": "Point"}],
    }
    bare = posted(**{f: {"type": "string"} for f in fields})
    assert check_posted(NS, RELATIONSHIP_TYPES, "rel", bare).metadata == {
        "relation": "rel",
        "source": None,
        "destination": None,
        "pairs": [],
    }
    bare["x-brick"] = {"pairs": [{"source": "A", "destination": "B", "extra": 1}], "relation": "r"}
    assert check_posted(NS, RELATIONSHIP_TYPES, "rel", bare).metadata == {
        "relation": "r",
        "source": None,
        "destination": None,
        "pairs": [{"source": "A", "destination": "B"}],
    }


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("x-brick", [], "'x-brick' must be an object"),
        ("schemaMetadata", "x", "'schemaMetadata' must be an object"),
        ("x-brick", {"tags": "x"}, "'x-brick' or 'schemaMetadata' is malformed: 'tags' must be"),
        (
            "x-brick",
            {"pairs": [{"source": 1}]},
            "'x-brick' or 'schemaMetadata' is malformed: 'pairs'",
        ),
    ],
)
def test_malformed_metadata_is_the_schema_error(key: str, value: Any, error: str) -> None:
    fields = ("sourceEntityId", "destinationEntityId", "relationshipType")
    kind = RELATIONSHIP_TYPES if "pairs" in str(value) else ENTITY_TYPES
    schema = posted(**{f: {"type": "string"} for f in fields}) | {key: value}
    rendered = check_posted(NS, kind, "T", schema)
    assert rendered.error is not None and rendered.error.startswith(error)


def test_class_of_strips_only_the_own_namespace() -> None:
    assert class_of(NS, f"{NS}__AHU") == "AHU"
    assert class_of(NS, "OTHER__AHU") == "OTHER__AHU"
    assert class_of(NS, f"{NS}__A__B") == "A__B"
