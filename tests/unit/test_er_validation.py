"""The rules every ER item passes: its type's schema (fast path and reference alike), the
derived brick* fields, fields that never change, and the process-wide validator cache."""

from __future__ import annotations

from typing import Any

import pytest

from shared.er import validation
from shared.er.validation import (
    ItemRejected,
    Stored,
    ValidatorCache,
    check_schema,
    check_unchanged,
    entity_derived,
    schema_default,
    with_derived,
)
from shared.schemas import render
from tests.unit.er_types import NS, entity_type, string, type_schema

AHU = entity_type("AHU", "Equipment", ["HVAC_Equipment", "Equipment"])


def rejection(call: Any, *args: Any) -> str:
    with pytest.raises(ItemRejected) as caught:
        call(*args)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# Derived fields ------------------------------------------------------------------------------


def test_derived_fields_come_from_the_schema_defaults() -> None:
    assert entity_derived(AHU) == {
        "brickEntityType": f"{NS}__Equipment",
        "brickEntitySubType": f"{NS}__AHU",
        "brickEntityName": "AHU",
    }


def test_without_brick_defaults_the_metadata_decides() -> None:
    sensor = entity_type("Air_Temperature_Sensor", "Point", ["Sensor"], defaults=False)
    assert entity_derived(sensor) == {
        "brickEntityType": f"{NS}__Point",
        "brickEntitySubType": f"{NS}__Air_Temperature_Sensor",
        "brickEntityName": "Air Temperature Sensor",
    }


def test_defaults_that_differ_from_the_metadata_win() -> None:
    odd = entity_type(
        "Fan", "Equipment", [],
        brickEntityType=string("ACME__Machine"),
        brickEntitySubType=string("ACME__Blower"),
        brickEntityName=string("A blower"),
    )  # fmt: skip
    assert entity_derived(odd) == {
        "brickEntityType": "ACME__Machine",
        "brickEntitySubType": "ACME__Blower",
        "brickEntityName": "A blower",
    }


def test_empty_or_non_string_defaults_fall_back() -> None:
    odd = entity_type(
        "Fan", "Equipment", [],
        brickEntityType={"type": "string", "default": ""},
        brickEntitySubType={"type": "string", "default": 7},
    )  # fmt: skip
    derived = entity_derived(odd)
    assert derived["brickEntityType"] == f"{NS}__Equipment"
    assert derived["brickEntitySubType"] == f"{NS}__Fan"


def test_no_top_class_makes_the_type_its_own_top() -> None:
    schema = {"type": "object", "properties": {}}
    bare = type_schema("ACME__Thing", schema, {})
    assert entity_derived(bare) == {
        "brickEntityType": "ACME__Thing",
        "brickEntitySubType": "ACME__Thing",
        "brickEntityName": "Thing",
    }


def test_schema_default_reads_only_string_property_defaults() -> None:
    assert schema_default(AHU, "brickEntityName", "x") == "AHU"
    assert schema_default(AHU, "nothing", "fallback") == "fallback"
    odd = type_schema("T", {"properties": ["not", "a", "map"]}, {})
    assert schema_default(odd, "brickEntityName", "fallback") == "fallback"


def test_derived_answers_are_memoised_per_schema_version() -> None:
    first = entity_derived(AHU)
    assert entity_derived(AHU) is first
    changed = entity_type("AHU", "Equipment", [], brickEntityName=string("Air handler"))
    assert entity_derived(changed)["brickEntityName"] == "Air handler"


def test_the_memo_is_cleared_when_it_grows_past_its_bound() -> None:
    validation._ENTITY_DERIVED.clear()
    for n in range(4097):
        validation._ENTITY_DERIVED[(f"T{n}", "x")] = {}
    entity_derived(AHU)
    assert len(validation._ENTITY_DERIVED) == 1
    for n in range(4095):
        validation._ENTITY_DERIVED[(f"T{n}", "x")] = {}
    entity_derived(entity_type("Fan", "Equipment", []))  # 4096 held: not past the bound yet
    assert len(validation._ENTITY_DERIVED) == 4097
    validation._ENTITY_DERIVED.clear()


def test_a_client_may_send_a_derived_field_only_with_the_derived_value() -> None:
    derived = entity_derived(AHU)
    item = {"id": "a", "entityType": f"{NS}__AHU", "brickEntityName": "AHU"}
    stored, subject = with_derived(item, derived, AHU)
    assert stored == {**item, **derived}
    # A closed schema that declares the derived fields validates them too.
    assert subject == stored
    item["brickEntityName"] = "Not an AHU"
    message = rejection(with_derived, item, derived, AHU)
    assert message == (
        "brickEntityName is derived by the server as 'AHU'; the item sent \"Not an AHU\""
    )
    item["brickEntityName"] = "Zürich"
    assert '"Zürich"' in rejection(with_derived, item, derived, AHU)


def test_a_closed_schema_is_validated_without_undeclared_derived_fields() -> None:
    bare = entity_type("Fan", "Equipment", [], defaults=False)
    derived = entity_derived(bare)
    item = {"id": "f", "entityType": f"{NS}__Fan", "entityName": "F", "extra": 1}
    stored, subject = with_derived(item, derived, bare)
    assert stored == {**item, **derived}
    assert subject == item  # "extra" stays: only derived names are dropped


def test_a_closed_schema_without_properties_drops_every_derived_field() -> None:
    closed = type_schema("ACME__Thing", {"type": "object", "additionalProperties": False}, {})
    derived = entity_derived(closed)
    stored, subject = with_derived({"id": "t"}, derived, closed)
    assert stored == {"id": "t", **derived}
    assert subject == {"id": "t"}


def test_a_boolean_schema_is_validated_with_every_field() -> None:
    anything = type_schema("ACME__Any", True, {})  # type: ignore[arg-type]
    stored, subject = with_derived({"id": "t"}, {"brickEntityName": "Any"}, anything)
    assert stored == subject == {"id": "t", "brickEntityName": "Any"}


def test_the_namespace_is_what_comes_before_the_first_separator() -> None:
    odd = type_schema(
        "ACME__Odd__Thing", {"type": "object"}, {"class": "Odd__Thing", "topClass": "Top"}
    )
    derived = entity_derived(odd)
    assert derived["brickEntityType"] == "ACME__Top"
    assert derived["brickEntityName"] == "Odd  Thing"


def test_an_open_schema_is_validated_with_every_derived_field() -> None:
    open_type = entity_type("Fan", "Equipment", [], defaults=False, closed=False)
    item = {"id": "f"}
    derived = entity_derived(open_type)
    stored, subject = with_derived(item, derived, open_type)
    assert subject == stored == {**item, **derived}
    explicit = type_schema("T", {**open_type.schema, "additionalProperties": True}, {})
    assert with_derived(item, derived, explicit)[1] == stored


def test_a_declared_derived_field_that_the_schema_constrains_is_validated() -> None:
    strict = entity_type("Fan", "Equipment", [], brickEntityName={"type": "string", "maxLength": 2})
    derived = entity_derived(strict)
    assert derived["brickEntityName"] == "Fan"
    item = {"id": "f", "entityType": f"{NS}__Fan", "entityName": "F"}
    _, subject = with_derived(item, derived, strict)
    assert subject["brickEntityName"] == "Fan"
    message = rejection(check_schema, strict, subject)
    assert "'Fan' is too long" in message
    assert message.endswith("(at brickEntityName)")


# Fields that never change --------------------------------------------------------------------


def test_nothing_stored_means_nothing_to_keep() -> None:
    check_unchanged("entity", "entityType", None, "X", {"a": "b"})


def test_the_type_cannot_change() -> None:
    stored = Stored("A", {})
    message = rejection(check_unchanged, "entity", "entityType", stored, "B", {})
    assert message == (
        "entityType cannot change after creation: this entity is 'A', the item says 'B'"
    )
    check_unchanged("entity", "entityType", stored, "A", {})


def test_derived_fields_cannot_change() -> None:
    stored = Stored("A", {"brickEntityType": "X", "other": "kept"})
    check_unchanged("entity", "entityType", stored, "A", {"brickEntityType": "X"})
    message = rejection(
        check_unchanged, "relationship", "relationshipType", stored, "A", {"brickEntityType": "Y"}
    )
    assert message == (
        "brickEntityType cannot change after creation: it is 'X', this item would make it 'Y'"
    )
    assert "it is 'None'" in rejection(
        check_unchanged, "entity", "entityType", stored, "A", {"new": "v"}
    )


# Schemas -------------------------------------------------------------------------------------


def valid_ahu(**extra: Any) -> dict[str, Any]:
    return {"id": "a", "entityType": f"{NS}__AHU", "entityName": "AHU 1", **extra}


def test_a_valid_item_passes_and_an_invalid_one_says_where() -> None:
    check_schema(AHU, valid_ahu())
    message = rejection(check_schema, AHU, valid_ahu(customData=[1]))
    assert message == (
        f"Does not match the schema of '{NS}__AHU' (version 1): [1] is not of type 'object' "
        "(at customData)"
    )
    message = rejection(check_schema, AHU, {"id": "a", "entityType": "x"})
    assert message.endswith("'entityName' is a required property (at the item)")


def test_an_invalid_schema_fails_its_items() -> None:
    broken = type_schema("Broken", {"type": "no such type"}, {})
    message = rejection(check_schema, broken, {})
    assert message.startswith("The schema of 'Broken' is not valid: ")


def test_a_schema_that_cannot_be_applied_fails_its_items() -> None:
    dangling = type_schema("Dangling", {"$ref": "#/definitions/missing"}, {})
    message = rejection(check_schema, dangling, {})
    assert message.startswith("The schema of 'Dangling' cannot be applied: ")


def test_what_the_fast_validator_cannot_read_is_left_to_the_reference() -> None:
    compiled = validation._compile({"type": "object"})
    assert compiled.fast is not None
    assert compiled.is_valid_fast({"a": 1}) is True
    assert compiled.is_valid_fast({1: "a"}) is False  # it raises on a non-string key


def test_a_valid_item_never_reaches_the_reference_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Untouchable:
        def iter_errors(self, instance: Any) -> Any:
            raise AssertionError("the reference ran")

    fast = validation._compile(AHU.schema).fast
    compiled = validation.Compiled(Untouchable(), fast)  # type: ignore[arg-type]
    monkeypatch.setattr(validation.VALIDATORS, "get", lambda type_schema: compiled)
    check_schema(AHU, valid_ahu())
    assert "cannot be applied: the reference ran" in rejection(check_schema, AHU, {"id": 1})


def test_a_nested_error_says_its_path() -> None:
    nested = type_schema(
        "Nested",
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
        {},
    )
    assert rejection(check_schema, nested, {"a": ["x", 2]}).endswith(
        "2 is not of type 'string' (at a/1)"
    )


def test_fast_and_reference_paths_agree_on_big_integers() -> None:
    counted = type_schema("Counted", {"type": "object", "properties": {"n": {"maximum": 10}}}, {})
    compiled = validation.VALIDATORS.get(counted)
    assert compiled.fast is not None
    assert compiled.is_valid_fast({"n": 2**70}) is False  # beyond 64 bits: not "valid"
    assert "is greater than the maximum of 10" in rejection(check_schema, counted, {"n": 2**70})
    check_schema(counted, {"n": 3})


@pytest.mark.parametrize(
    ("schema", "plain"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}}, True),
        (True, True),
        ({"enum": ["a", None]}, True),
        ({"const": "a"}, True),
        ({"enum": ["a", 1]}, False),
        ({"const": 1}, False),
        ({"enum": "not a list"}, True),  # check_schema refuses it later
        ({"pattern": "^a"}, False),
        ({"$ref": "#"}, False),
        ({"properties": []}, False),
        ({"properties": {"a": {"pattern": "x"}}}, False),
        ({"allOf": [{"type": "string"}, {"uniqueItems": True}]}, False),
        ({"anyOf": [{"type": "string"}]}, True),
        ({"oneOf": [{"multipleOf": 2}]}, False),
        ({"items": [{"type": "string"}, {"format": "date"}]}, True),
        ({"items": {"multipleOf": 2}}, False),
        ({"additionalProperties": {"pattern": "x"}}, False),
        ({"additionalItems": {"pattern": "x"}}, False),
        ({"not": {"pattern": "x"}}, False),
        ({"propertyNames": {"pattern": "x"}}, False),
        ({"additionalProperties": False, "title": "t", "description": "d"}, True),
        ({"default": 1, "examples": [1], "$comment": "c", "$schema": "x"}, True),
        ({"minLength": 1, "maxLength": 2, "minItems": 0, "maxItems": 1}, True),
        ({"minProperties": 1, "maxProperties": 2, "minimum": 0, "maximum": 1}, True),
        ({"exclusiveMinimum": 0, "exclusiveMaximum": 1, "required": []}, True),
        (["not", "a", "schema"], False),
        ({"properties": {"a": 1}}, False),
        ({"allOf": [{"pattern": "x"}, True]}, False),  # a boolean subschema does not end the walk
        ({"const": ["a"]}, False),  # a list is one const value, not a list of values
        ({"required": ["a"]}, True),  # names, not subschemas
        ({"allOf": {"pattern": "x"}}, True),  # malformed: check_schema refuses it later
        ({"type": "object", "x-brick": {"pattern": "not read"}}, True),  # an extension
        ({"brick": {"class": "AHU"}}, False),  # an unknown keyword that is no extension
    ],
)
def test_only_plain_schemas_get_the_fast_path(schema: Any, plain: bool) -> None:
    assert validation._plain(schema) is plain


def test_the_schemas_a_release_generates_get_the_fast_path() -> None:
    """What the schema service stores for Brick types: the fast path is for these above all."""
    entity = render.entity_schema(
        NS,
        {"name": "AHU", "label": "AHU", "topClass": "Equipment", "parents": ["HVAC_Equipment"],
         "ancestors": ["HVAC_Equipment", "Equipment"], "tags": ["AHU"], "definition": None,
         "deprecated": False},
    )  # fmt: skip
    relationship = render.relationship_schema(
        NS,
        {"name": "feeds", "relation": "feeds", "source": "Equipment", "destination": "Equipment",
         "pairs": [{"source": "Equipment", "destination": "Equipment"}]},
    )  # fmt: skip
    for rendered in (entity, relationship):
        assert rendered.schema is not None and "x-brick" in rendered.schema
        assert validation._compile(rendered.schema).fast is not None, rendered.type_id


def test_plain_draft_06_and_07_schemas_compile_a_fast_validator() -> None:
    for uri in (
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-07/schema#",
    ):
        compiled = validation._compile({"$schema": uri, "type": "string"})
        assert compiled.fast is not None
        assert compiled.is_valid_fast("a") is True
        assert compiled.is_valid_fast(1) is False
    draft4 = validation._compile({"$schema": "http://json-schema.org/draft-04/schema#"})
    assert draft4.fast is None
    assert draft4.is_valid_fast("anything") is False
    not_plain = validation._compile({"pattern": "^a"})
    assert not_plain.fast is None
    assert not_plain.reference.is_valid("a")


def test_a_schema_without_dialect_is_draft_07() -> None:
    compiled = validation._compile({"type": "string"})
    assert type(compiled.reference).__name__ == "Draft7Validator"


def test_the_fast_validator_skips_formats() -> None:
    compiled = validation._compile({"type": "string", "format": "date"})
    assert compiled.is_valid_fast("not a date") is True


# The validator cache -------------------------------------------------------------------------


def numbered(n: int, version: int = 1) -> Any:
    return type_schema(f"T{n}", {"type": "object", "maxProperties": n}, {}, version=version)


def test_the_cache_compiles_each_schema_version_once() -> None:
    cache = ValidatorCache(max_size=4)
    first = cache.get(numbered(1))
    assert cache.get(numbered(1)) is first
    changed = type_schema("T1", {"type": "object", "maxProperties": 9}, {})
    assert cache.get(changed) is not first
    assert len(cache) == 2


def test_the_cache_evicts_the_least_recently_used() -> None:
    cache = ValidatorCache(max_size=2)
    one, two, three = numbered(1), numbered(2), numbered(3)
    compiled_one = cache.get(one)
    compiled_two = cache.get(two)
    assert cache.get(one) is compiled_one  # one is now the most recent
    cache.get(three)  # evicts two, not one
    assert len(cache) == 2
    assert cache.get(one) is compiled_one
    assert cache.get(two) is not compiled_two  # compiled again
    assert len(cache) == 2


def test_the_cache_holds_exactly_its_size() -> None:
    cache = ValidatorCache(max_size=3)
    compiled = [cache.get(numbered(n)) for n in range(3)]
    assert len(cache) == 3
    assert cache.get(numbered(0)) is compiled[0]
    assert ValidatorCache().get(numbered(0)) is not compiled[0]


def test_the_default_cache_holds_4096() -> None:
    cache = ValidatorCache()
    kept = cache.get(numbered(0))
    for n in range(1, 4096):
        cache._validators[(f"T{n}", "x")] = kept
    assert len(cache) == 4096
    assert cache.get(numbered(0)) is kept
    cache.get(numbered(5000))
    assert len(cache) == 4096
