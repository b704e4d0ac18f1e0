"""Reading items to import: NDJSON or CSV, from a file or stdin, each with its line number.

The whole input is read and checked before anything is sent, so a malformed line stops the
import before it has written half a file (the line is named), and a bad file never leaves a
partial import behind to clean up."""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shared.importer.errors import BadInput

# The Apollo CSV layout (postEntitiesUsingImportFromCSVFile): row 1 names, row 2 JSON types,
# row 3 required/optional, data from row 4. A plain CSV has data from row 2, every value text.
CSV_TYPES = {"string", "number", "integer", "boolean", "object", "array"}
MAX_ID_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Item:
    line: int | None  # 1-based line (NDJSON) or row (CSV); None for an item made from a model
    body: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.body["id"])


def input_format(path: str, declared: str | None) -> str:
    if declared:
        return declared
    return "csv" if path.lower().endswith(".csv") else "ndjson"


def read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc


def read_items(path: str, declared_format: str | None = None) -> list[Item]:
    text = read_text(path)
    name = "stdin" if path == "-" else path
    fmt = input_format(path, declared_format)
    items = parse_csv(text, name) if fmt == "csv" else parse_ndjson(text, name)
    check_ids(items, name)
    return items


def parse_ndjson(text: str, name: str) -> list[Item]:
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            body = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BadInput(f"{name} line {number}: malformed JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise BadInput(f"{name} line {number}: expected a JSON object, one per line")
        items.append(Item(number, body))
    return items


def _typed(value: str, json_type: str, name: str, row: int, column: str) -> Any:
    if json_type == "string":
        return value
    try:
        if json_type == "boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
        return orjson.loads(value)  # number, integer, object, array: JSON text in the cell
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadInput(f"{name} row {row}: column {column} is not a valid {json_type}") from exc


def parse_csv(text: str, name: str) -> list[Item]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [cell.strip() for cell in rows[0]]
    types = ["string"] * len(header)
    first_data = 1
    if len(rows) > 2 and all(cell.strip().lower() in CSV_TYPES for cell in rows[1] if cell):
        types = [cell.strip().lower() or "string" for cell in rows[1]]
        first_data = 3  # row 3 only says required/optional, which the type schema enforces
    items = []
    for index in range(first_data, len(rows)):
        row, number = rows[index], index + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise BadInput(f"{name} row {number}: more cells than the header has columns")
        body = {
            column: _typed(cell, types[i] if i < len(types) else "string", name, number, column)
            for i, (column, cell) in enumerate(zip(header, row, strict=False))
            if column and cell != ""
        }
        items.append(Item(number, body))
    return items


def check_ids(items: list[Item], name: str) -> None:
    """Every item needs a string id, once: the server refuses a whole batch otherwise."""
    seen: dict[str, int | None] = {}
    for item in items:
        value = item.body.get("id")
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH:
            raise BadInput(f"{name} line {item.line}: 'id' must be a string of 1 to 512 characters")
        if value in seen:
            raise BadInput(f"{name} line {item.line}: id {value!r} repeats line {seen[value]}")
        seen[value] = item.line
