"""Reading items to import: NDJSON and both CSV layouts, every refusal naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.importer.errors import BadInput
from shared.importer.sources import (
    Item,
    check_ids,
    input_format,
    parse_csv,
    parse_ndjson,
    read_items,
)


def refused(call: object, *args: object) -> str:
    with pytest.raises(BadInput) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


def test_format_from_the_name_unless_declared() -> None:
    assert input_format("a.CSV", None) == "csv"
    assert input_format("a.ndjson", None) == "ndjson"
    assert input_format("-", None) == "ndjson"
    assert input_format("a.csv", "ndjson") == "ndjson"


def test_ndjson_keeps_line_numbers_and_skips_blank_lines() -> None:
    text = '{"id": "a"}\n\n  \n{"id": "b", "n": 1}\n'
    assert parse_ndjson(text, "f") == [Item(1, {"id": "a"}), Item(4, {"id": "b", "n": 1})]


def test_ndjson_refusals_name_the_line() -> None:
    assert refused(parse_ndjson, '{"id": "a"}\n{"id": ', "f").startswith(
        "f line 2: malformed JSON ("
    )
    assert refused(parse_ndjson, '{"id": "a"}\n["a"]', "f") == (
        "f line 2: expected a JSON object, one per line"
    )


def test_plain_csv_is_all_text_from_row_two() -> None:
    text = "id,name,floor\na,AHU 1,3\n,,\nb,,\n"
    assert parse_csv(text, "f") == [
        Item(2, {"id": "a", "name": "AHU 1", "floor": "3"}),
        Item(4, {"id": "b"}),
    ]
    assert parse_csv("", "f") == []


def test_apollo_csv_layout_types_each_column() -> None:
    text = (
        "id, floor ,on,tags,ratio,note\n"
        "string,integer,boolean,array,number,\n"
        "required,optional,optional,optional,optional,optional\n"
        'a,3,TRUE,"[""x""]",0.5,hi\n'
        "b,,false,,,\n"
    )
    assert parse_csv(text, "f") == [
        Item(4, {"id": "a", "floor": 3, "on": True, "tags": ["x"], "ratio": 0.5, "note": "hi"}),
        Item(5, {"id": "b", "on": False}),
    ]


def test_two_rows_are_a_plain_csv_even_when_row_two_looks_like_types() -> None:
    assert parse_csv("id,n\nstring,number\n", "f") == [Item(2, {"id": "string", "n": "number"})]


@pytest.mark.parametrize(("cell", "kind"), [("yes", "boolean"), ("x", "integer"), ("{", "object")])
def test_a_cell_that_is_not_its_type(cell: str, kind: str) -> None:
    text = f"id,v\nstring,{kind}\nrequired,optional\na,{cell}\n"
    assert refused(parse_csv, text, "f") == f"f row 4: column v is not a valid {kind}"


def test_more_cells_than_columns() -> None:
    assert refused(parse_csv, "id\na,b\n", "f") == (
        "f row 2: more cells than the header has columns"
    )


def test_ids_are_strings_given_once() -> None:
    check_ids([Item(1, {"id": "a"}), Item(2, {"id": "x" * 512})], "f")
    message = "f line 3: 'id' must be a string of 1 to 512 characters"
    for value in (None, 1, "", "x" * 513):
        body = {} if value is None else {"id": value}
        assert (
            refused(check_ids, [Item(1, {"id": "a"}), Item(2, {"id": "b"}), Item(3, body)], "f")
            == message
        )
    assert refused(check_ids, [Item(1, {"id": "a"}), Item(5, {"id": "a"})], "f") == (
        "f line 5: id 'a' repeats line 1"
    )


def test_read_items_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("\ufeffid\na\n", encoding="utf-8")
    assert read_items(str(path)) == [Item(2, {"id": "a"})]
    assert read_items(str(path), "csv")[0].id == "a"
    ndjson = tmp_path / "items.txt"
    ndjson.write_text('{"id": "a"}\n{"id": "a"}\n', encoding="utf-8")
    assert refused(read_items, str(ndjson)) == f"{ndjson} line 2: id 'a' repeats line 1"


def test_unreadable_files_are_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ndjson"
    assert refused(read_items, str(missing)).startswith(f"cannot read {missing}: ")
    binary = tmp_path / "binary.ndjson"
    binary.write_bytes(b"\xff\xfe\x00")
    assert refused(read_items, str(binary)).startswith(f"cannot read {binary}: ")


def test_stdin_is_named_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": 1}\n'))
    assert refused(read_items, "-") == "stdin line 1: 'id' must be a string of 1 to 512 characters"
