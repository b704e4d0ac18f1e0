"""Judging one entity or relationship in memory: types, ends, collections, derived fields."""

from __future__ import annotations

from typing import Any

import pytest

from shared.er.items import (
    EntityContext,
    EntityRow,
    RelationshipContext,
    RelationshipRow,
    check_entity,
    check_relationship,
    destination_collection,
    end_type,
    judge_pair,
    required_string,
)
from shared.er.validation import ItemRejected, Stored
from tests.unit.er_types import NS, entity_type, relationship_type

OTHER = "BRICK_1_5"
AHU = entity_type("AHU", "Equipment", ["HVAC_Equipment", "Equipment"])
FAN = entity_type("Fan", "Equipment", ["HVAC_Equipment", "Equipment"])
SENSOR = entity_type("Sensor", "Point", ["Point"])
# The same classes in another schema collection, with other namespaces and defaults.
AHU_15 = entity_type("AHU", "Equipment", ["Equipment"], namespace=OTHER, collection_id="Brick_1_5")
FEEDS = relationship_type("feeds", [("Equipment", "Equipment")], name="feeds_Equipment_Equipment")
HAS_POINT = relationship_type("hasPoint", [("Equipment", "Point")])


def reason(call: Any, *args: Any) -> str:
    with pytest.raises(ItemRejected) as caught:
        call(*args)
    return caught.value.message


def entity(entity_id: str, type_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": entity_id, "entityName": entity_id.upper(), "entityType": type_id, **extra}


def entity_context(**stored: Stored) -> EntityContext:
    return EntityContext("Brick_1_4", {t.type_id: t for t in (AHU, FAN)}, dict(stored))


# Entities ------------------------------------------------------------------------------------


def test_a_valid_entity_becomes_its_row_with_derived_fields() -> None:
    row = check_entity(entity("a1", f"{NS}__AHU"), entity_context())
    derived = {
        "brickEntityType": f"{NS}__Equipment",
        "brickEntitySubType": f"{NS}__AHU",
        "brickEntityName": "AHU",
    }
    assert row == EntityRow("a1", f"{NS}__AHU", derived, {**entity("a1", f"{NS}__AHU"), **derived})


@pytest.mark.parametrize("value", [None, "", 5, ["x"], {"a": 1}, True])
def test_entity_type_must_be_a_non_empty_string(value: Any) -> None:
    item = entity("a1", "x")
    item["entityType"] = value
    assert reason(check_entity, item, entity_context()) == (
        "entityType is required (a non-empty string)"
    )


def test_an_unknown_entity_type_names_the_schema_collection() -> None:
    assert reason(check_entity, entity("a1", f"{NS}__Boiler"), entity_context()) == (
        f"entityType '{NS}__Boiler' is not an entity type of schema collection 'Brick_1_4'"
    )


def test_a_stored_entity_keeps_its_type() -> None:
    context = entity_context(a1=Stored(f"{NS}__Fan", {}))
    assert reason(check_entity, entity("a1", f"{NS}__AHU"), context) == (
        f"entityType cannot change after creation: this entity is '{NS}__Fan', "
        f"the item says '{NS}__AHU'"
    )
    other = entity_context(a2=Stored(f"{NS}__Fan", {}))
    assert check_entity(entity("a1", f"{NS}__AHU"), other).id == "a1"


def test_a_stored_entity_keeps_its_derived_fields() -> None:
    row = check_entity(entity("a1", f"{NS}__AHU"), entity_context())
    same = entity_context(a1=Stored(f"{NS}__AHU", row.derived))
    assert check_entity(entity("a1", f"{NS}__AHU"), same) == row
    older = entity_context(a1=Stored(f"{NS}__AHU", {**row.derived, "brickEntityName": "Old"}))
    assert reason(check_entity, entity("a1", f"{NS}__AHU"), older) == (
        "brickEntityName cannot change after creation: it is 'Old', this item would make it 'AHU'"
    )


def test_an_entity_with_bad_v12_fields_or_schema_fails() -> None:
    context = entity_context()
    bad_labels = entity("a1", f"{NS}__AHU", labels="x")
    assert reason(check_entity, bad_labels, context).startswith("labels must be a list")
    bad_schema = entity("a1", f"{NS}__AHU", customData=1)
    assert "(at customData)" in reason(check_entity, bad_schema, context)
    derived_wrong = entity("a1", f"{NS}__AHU", brickEntityType="x")
    assert reason(check_entity, derived_wrong, context).startswith(
        "brickEntityType is derived by the server"
    )


def test_undeclared_v12_fields_pass_a_closed_schema() -> None:
    item = entity(
        "a1", f"{NS}__AHU", labels=["a"], geoLocation={"type": "Point", "coordinates": [1, 2]}
    )
    row = check_entity(item, entity_context())
    assert row.body["labels"] == ["a"]


def test_required_string() -> None:
    assert required_string({"a": "x"}, "a") == "x"
    assert reason(required_string, {}, "a") == "a is required (a non-empty string)"


# Relationships -------------------------------------------------------------------------------


def relationship_context(
    *, types: tuple[Any, ...] = (FEEDS, HAS_POINT), **extra: Any
) -> RelationshipContext:
    context = RelationshipContext(
        "here", "Brick_1_4", {"There": ("there", "Brick_1_5"), "Near": ("near", "Brick_1_4")},
        {t.type_id: t for t in types},
    )  # fmt: skip
    context.entity_types = {
        ("here", "a1"): f"{NS}__AHU",
        ("here", "f1"): f"{NS}__Fan",
        ("here", "s1"): f"{NS}__Sensor",
        ("there", "a1"): f"{OTHER}__AHU",
        ("near", "f2"): f"{NS}__Fan",
        ("here", "gone"): f"{NS}__Retired",
    }
    context.entity_schemas = {
        ("Brick_1_4", f"{NS}__AHU"): AHU,
        ("Brick_1_4", f"{NS}__Fan"): FAN,
        ("Brick_1_4", f"{NS}__Sensor"): SENSOR,
        ("Brick_1_5", f"{OTHER}__AHU"): AHU_15,
    }
    for name, value in extra.items():
        setattr(context, name, value)
    return context


def rel(
    source: str, destination: str, type_id: str = FEEDS.type_id, **extra: Any
) -> dict[str, Any]:
    return {
        "id": "r1",
        "sourceEntityId": source,
        "destinationEntityId": destination,
        "relationshipType": type_id,
        **extra,
    }


def test_a_valid_relationship_becomes_its_row() -> None:
    row = check_relationship(rel("a1", "f1"), relationship_context())
    derived = {
        "brickRelationshipType": f"{NS}__feeds",
        "brickRelationshipName": "feeds",
        "brickSourceEntityType": f"{NS}__Equipment",
        "brickSourceEntitySubType": f"{NS}__AHU",
        "brickDestinationEntityType": f"{NS}__Equipment",
        "brickDestinationEntitySubType": f"{NS}__Fan",
    }
    assert row == RelationshipRow(
        "r1", FEEDS.type_id, "a1", "here", "f1", derived, {**rel("a1", "f1"), **derived}
    )


def test_ends_in_different_schema_collections_derive_from_their_own_types() -> None:
    item = rel("a1", "a1", sourceERCollectionId="here", destinationERCollectionId="There")
    row = check_relationship(item, relationship_context())
    assert row.destination_collection_id == "there"
    assert row.derived["brickSourceEntitySubType"] == f"{NS}__AHU"
    assert row.derived["brickDestinationEntitySubType"] == f"{OTHER}__AHU"
    assert row.derived["brickDestinationEntityType"] == f"{OTHER}__Equipment"


def test_another_collection_on_the_same_schema_collection() -> None:
    item = rel("a1", "f2", sourceERCollectionId="HERE", destinationERCollectionId="Near")
    row = check_relationship(item, relationship_context())
    assert (row.destination_collection_id, row.destination_entity_id) == ("near", "f2")


@pytest.mark.parametrize("field", ["relationshipType", "sourceEntityId", "destinationEntityId"])
@pytest.mark.parametrize("value", [None, "", 1, ["a1"], {"id": "a1"}])
def test_type_and_ends_must_be_non_empty_strings(field: str, value: Any) -> None:
    item = rel("a1", "f1")
    item[field] = value
    assert reason(check_relationship, item, relationship_context()) == (
        f"{field} is required (a non-empty string)"
    )


def test_an_unknown_relationship_type_names_the_schema_collection() -> None:
    assert reason(check_relationship, rel("a1", "f1", "X"), relationship_context()) == (
        "relationshipType 'X' is not a relationship type of schema collection 'Brick_1_4'"
    )


def test_a_missing_end_names_its_collection() -> None:
    context = relationship_context()
    assert reason(check_relationship, rel("nope", "f1"), context) == (
        "source entity 'nope' does not exist in ercollection 'here'"
    )
    item = rel("a1", "f1", sourceERCollectionId="here", destinationERCollectionId="There")
    assert reason(check_relationship, item, context) == (
        "destination entity 'f1' does not exist in ercollection 'there'"
    )


def test_an_end_whose_type_was_retired_fails_alone() -> None:
    assert reason(check_relationship, rel("a1", "gone"), relationship_context()) == (
        f"The type '{NS}__Retired' of destination entity 'gone' is no longer an entity type "
        "of schema collection 'Brick_1_4'"
    )
    assert end_type(relationship_context(), "source", "here", "a1") == (f"{NS}__AHU", AHU)


def test_a_pair_the_type_does_not_allow_lists_the_allowed_ones() -> None:
    context = relationship_context()
    assert reason(check_relationship, rel("a1", "s1"), context) == (
        f"relationshipType '{FEEDS.type_id}' does not allow source entity type '{NS}__AHU' "
        f"with destination entity type '{NS}__Sensor' (allowed: Equipment -> Equipment)"
    )
    assert check_relationship(rel("a1", "s1", HAS_POINT.type_id), context).id == "r1"
    two = relationship_type("two", [("Point", "Equipment"), ("Location", "Point")])
    assert judge_pair("two", two, "A", AHU, "F", FAN) == (
        "relationshipType 'two' does not allow source entity type 'A' with destination "
        "entity type 'F' (allowed: Point -> Equipment, Location -> Point)"
    )
    none_allowed = relationship_type("odd", [])
    verdict = judge_pair("odd", none_allowed, "A", AHU, "F", FAN)
    assert verdict == (
        "relationshipType 'odd' does not allow source entity type 'A' with destination "
        "entity type 'F' (allowed: none)"
    )


def test_pair_verdicts_are_judged_once_and_reused() -> None:
    context = relationship_context()
    first = check_relationship(rel("a1", "f1"), context)
    assert context.pairs == {(FEEDS.type_id, id(AHU), id(FAN)): first.derived}
    context.pairs[(FEEDS.type_id, id(AHU), id(FAN))] = "remembered refusal"
    assert reason(check_relationship, rel("a1", "f1"), context) == "remembered refusal"
    check_relationship(rel("f1", "a1"), context)
    assert len(context.pairs) == 2
    context.pairs[(FEEDS.type_id, id(FAN), id(AHU))] = {"brickRelationshipType": "cached"}
    assert check_relationship(rel("f1", "a1"), context).derived == {
        "brickRelationshipType": "cached"
    }


def test_a_stored_relationship_keeps_its_type_and_derived_fields() -> None:
    context = relationship_context(stored={"r1": Stored(HAS_POINT.type_id, {})})
    assert reason(check_relationship, rel("a1", "f1"), context) == (
        f"relationshipType cannot change after creation: this relationship is "
        f"'{HAS_POINT.type_id}', the item says '{FEEDS.type_id}'"
    )
    first = check_relationship(rel("a1", "f1"), relationship_context())
    context = relationship_context(stored={"r1": Stored(FEEDS.type_id, first.derived)})
    assert check_relationship(rel("a1", "f1"), context) == first
    # The destination's subtype would change: refused.
    assert reason(check_relationship, rel("a1", "a1"), context).startswith(
        "brickDestinationEntitySubType cannot change after creation"
    )


def test_a_relationship_is_checked_against_its_schema() -> None:
    item = rel("a1", "f1", relationshipName=5)
    assert reason(check_relationship, item, relationship_context()).endswith(
        "5 is not of type 'string' (at relationshipName)"
    )
    wrong = rel("a1", "f1", brickRelationshipName="x")
    assert reason(check_relationship, wrong, relationship_context()).startswith(
        "brickRelationshipName is derived by the server as 'feeds'"
    )


# Where the destination lives -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "destination", "expected"),
    [
        (None, None, "here"),
        ("here", None, "here"),
        ("HERE", "Here", "here"),
        ("here", "There", "there"),
        ("Here", "Near", "near"),
    ],
)
def test_the_destination_collection(source: Any, destination: Any, expected: str) -> None:
    item: dict[str, Any] = {}
    if source is not None:
        item["sourceERCollectionId"] = source
    if destination is not None:
        item["destinationERCollectionId"] = destination
    assert destination_collection(item, relationship_context()) == expected


@pytest.mark.parametrize("source", ["elsewhere", 5, ["here"]])
def test_the_source_collection_must_be_the_header_one(source: Any) -> None:
    item = {"sourceERCollectionId": source, "destinationERCollectionId": "There"}
    assert reason(destination_collection, item, relationship_context()) == (
        "sourceERCollectionId must equal the ercollectionid header ('here')"
    )
    only_destination = {"destinationERCollectionId": "There"}
    assert reason(destination_collection, only_destination, relationship_context()).startswith(
        "sourceERCollectionId must equal"
    )


@pytest.mark.parametrize("destination", ["unknown", "there", 7, ["There"], {"a": 1}])
def test_the_destination_must_be_a_registered_collection(destination: Any) -> None:
    item = {"sourceERCollectionId": "here", "destinationERCollectionId": destination}
    assert reason(destination_collection, item, relationship_context()) == (
        "destinationERCollectionId must name a registered ercollection"
    )


def test_the_schema_collection_of_a_collection() -> None:
    context = relationship_context()
    assert context.schema_collection_of("there") == "Brick_1_5"
    assert context.schema_collection_of("near") == "Brick_1_4"
    assert context.schema_collection_of("There") == "Brick_1_4"  # ids, not names
    assert context.schema_collection_of("here") == "Brick_1_4"
