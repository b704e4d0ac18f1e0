"""Item validation in memory: compiled-schema reuse, derived fields, broken schemas."""

from __future__ import annotations

from typing import Any

import pytest

from shared.er.items import EntityContext, check_entity
from shared.er.validation import ItemRejected, ValidatorCache, with_derived
from shared.schemas.catalog import TypeSchema
from tests.er_helpers import entity, entity_schema, sha256


def type_schema(schema: dict[str, Any], type_id: str = "NS__AHU") -> TypeSchema:
    metadata = {"class": "AHU", "topClass": "Equipment", "ancestors": ["Equipment"]}
    return TypeSchema(type_id, 1, "Ns", "entitytypes", schema, sha256(schema), metadata)


def test_a_schema_version_is_compiled_once_and_a_new_version_again() -> None:
    cache = ValidatorCache(max_size=2)
    first = type_schema(entity_schema("NS", "AHU"))
    assert cache.get(first) is cache.get(type_schema(entity_schema("NS", "AHU")))
    changed = type_schema({**entity_schema("NS", "AHU"), "description": "v2"})
    assert cache.get(changed) is not cache.get(first)
    cache.get(type_schema(entity_schema("NS", "Fan"), "NS__Fan"))
    assert len(cache) == 2  # the least recently used one made room


def test_undeclared_derived_fields_are_stored_but_not_validated() -> None:
    closed = {"type": "object", "additionalProperties": False, "properties": {"id": {}}}
    stored, subject = with_derived({"id": "x"}, {"brickThing": "T"}, type_schema(closed))
    assert stored == {"id": "x", "brickThing": "T"} and subject == {"id": "x"}
    with pytest.raises(ItemRejected, match="derived by the server as 'T'"):
        with_derived({"id": "x", "brickThing": "U"}, {"brickThing": "T"}, type_schema(closed))


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        (
            {"type": "object", "properties": {"id": {"$ref": "#/definitions/missing"}}},
            "cannot be applied",
        ),
        ({"type": 12}, "is not valid"),
    ],
)
def test_a_broken_schema_fails_its_items_not_the_batch(schema: dict[str, Any], reason: str) -> None:
    context = EntityContext("Ns", {"NS__AHU": type_schema(schema)})
    with pytest.raises(ItemRejected, match=reason):
        check_entity(entity("NS", "a", "AHU"), context)
