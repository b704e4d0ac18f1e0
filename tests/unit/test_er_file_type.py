"""The built-in file entity type: used only where the schema collection has no JCI_EXT__File,
derived fields as the file-entity pages show them, and its sysData checked."""

from __future__ import annotations

from typing import Any

import pytest

from shared.auth import Principal
from shared.er.file_entities import Upload, file_entity, file_entity_id, file_type_of
from shared.er.file_type import FILE_TYPE, builtin_file_type, with_file_type
from shared.er.items import EntityContext, check_entity
from shared.er.validation import ItemRejected
from tests.unit.er_types import entity_type

AHU = entity_type("AHU", "Equipment", ["Equipment"])


def upload(name: str, content: bytes, content_type: str | None = None) -> Upload:
    return Upload(
        Principal(1, "alice", frozenset()), "site", name, content, content_type, "", "t", "c"
    )


def test_the_builtin_type_stands_in_only_when_named_and_missing() -> None:
    types = {AHU.type_id: AHU}
    assert with_file_type(types, "Brick_1_4", {AHU.type_id}) is types
    added = with_file_type(types, "Brick_1_4", {FILE_TYPE})
    assert added[FILE_TYPE].collection_id == "Brick_1_4" and added[FILE_TYPE].version == 1
    own = builtin_file_type("Mine")
    assert with_file_type({FILE_TYPE: own}, "Brick_1_4", {FILE_TYPE})[FILE_TYPE] is own


def test_a_file_entity_passes_with_the_pages_derived_fields() -> None:
    context = EntityContext("Brick_1_4", {FILE_TYPE: builtin_file_type("Brick_1_4")})
    item = file_entity(upload("testFile.txt", b"12345", "image/png"), 1)
    row = check_entity(item, context)
    assert row.derived == {
        "brickEntityType": FILE_TYPE,
        "brickEntitySubType": FILE_TYPE,
        "brickEntityName": "File",
    }
    assert row.body["sysData"]["file_size"] == 5 and row.id == file_entity_id("testFile.txt")


@pytest.mark.parametrize(
    "change",
    [{"file_size": "5"}, {"file_name": ""}, {"version": 0}, {"file_version": None}],
)
def test_bad_sys_data_is_refused(change: dict[str, Any]) -> None:
    context = EntityContext("Brick_1_4", {FILE_TYPE: builtin_file_type("Brick_1_4")})
    item = file_entity(upload("a.txt", b"x"), 1)
    item["sysData"] |= change
    with pytest.raises(ItemRejected):
        check_entity(item, context)


def test_ids_and_types() -> None:
    assert file_entity_id("a.txt") == file_entity_id("a.txt") != file_entity_id("b.txt")
    assert file_type_of("plan.pdf", None) == "application/pdf"
    assert file_type_of("plan.pdf", "application/octet-stream") == "application/pdf"
    assert file_type_of("blob", None) == "application/octet-stream"
    assert file_type_of("x.txt", "text/csv") == "text/csv"
