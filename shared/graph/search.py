"""The search-query routes (``POST /apollo/graph/{entities,relationships}/search/query``),
answered from PostgreSQL: the Elasticsearch query DSL the pages use, turned into a WHERE clause.

Supported: ``match`` (case-insensitive equality), ``term`` (exact), ``terms``, ``prefix``,
``match_all`` and ``bool`` (``must``, ``filter``, ``should``, ``must_not``,
``minimum_should_match``). Fields are the item's top-level fields. Anything else is a 400.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from shared.er.tables import ItemTable
from shared.errors import BadRequest
from shared.graph import store
from shared.text import storable

FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_NESTING = 8
# Each clause becomes SQL that PostgreSQL parses recursively: tens of thousands of them ran out
# of its stack (a 500). A thousand is far beyond any hand-written or generated search seen.
MAX_CLAUSES = 1000
SUPPORTED = "match, term, terms, prefix, match_all, bool"
# Fields kept in columns of their own (indexed) rather than only in the body.
COLUMNS = {"id": "id", "entityType": "entity_type", "relationshipType": "relationship_type"}


@dataclass
class Condition:
    """SQL built up with its arguments, numbered from ``first``."""

    first: int
    args: list[Any] = field(default_factory=list)
    clauses: int = 0

    def count_clause(self) -> None:
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise BadRequest(f"The query has more than {MAX_CLAUSES} clauses")

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${self.first + len(self.args) - 1}"


def _text(value: Any, where: str) -> str:
    if isinstance(value, dict) and "query" in value:
        value = value["query"]
    if isinstance(value, str):
        return storable(value, where)
    if isinstance(value, bool | int | float) and value is not None:
        return json.dumps(value)
    raise BadRequest(f"{where} must be a string, number or boolean")


def _column(name: str, columns: frozenset[str], sql: Condition) -> str:
    if not isinstance(name, str) or not FIELD.fullmatch(name):
        raise BadRequest(f"'{name}' is not a field name")
    if name in COLUMNS and COLUMNS[name] in columns:
        return COLUMNS[name]
    return f"(body ->> {sql.arg(name)})"


def _one_field(clause: str, body: Any) -> tuple[str, Any]:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest(f'\'{clause}\' takes one field: {{"{clause}": {{"field": value}}}}')
    return next(iter(body.items()))


def _clauses(value: Any, where: str) -> list[Any]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise BadRequest(f"bool.{where} must be a query or a list of queries")


def condition(query: Any, columns: frozenset[str], sql: Condition, depth: int = 0) -> str:
    if depth > MAX_NESTING:
        raise BadRequest(f"The query nests more than {MAX_NESTING} levels")
    if not isinstance(query, dict) or len(query) != 1:
        raise BadRequest(f"Each query is an object with one clause: {SUPPORTED}")
    sql.count_clause()
    clause, body = next(iter(query.items()))
    if clause == "match_all":
        return "TRUE"
    if clause in ("match", "term", "prefix"):
        name, value = _one_field(clause, body)
        column = _column(name, columns, sql)
        text = _text(value, f"{clause}.{name}")
        # A missing field compares as false, never NULL: must_not and should count it so.
        if clause == "term":
            return f"coalesce({column} = {sql.arg(text)}, false)"
        if clause == "prefix":
            return f"coalesce(starts_with({column}, {sql.arg(text)}), false)"
        return f"coalesce(lower({column}) = lower({sql.arg(text)}), false)"
    if clause == "terms":
        name, values = _one_field(clause, body)
        if not isinstance(values, list) or not values:
            raise BadRequest(f"terms.{name} must be a non-empty list")
        texts = [_text(v, f"terms.{name}") for v in values]
        return f"coalesce({_column(name, columns, sql)} = ANY({sql.arg(texts)}::text[]), false)"
    if clause == "bool":
        return _bool(body, columns, sql, depth)
    raise BadRequest(f"Unsupported query clause '{clause}'; supported: {SUPPORTED}")


def _bool(body: Any, columns: frozenset[str], sql: Condition, depth: int) -> str:
    known = {"must", "filter", "should", "must_not", "minimum_should_match"}
    if not isinstance(body, dict) or not set(body) <= known:
        raise BadRequest(f"bool takes {', '.join(sorted(known))}")

    def each(name: str) -> list[str]:
        clauses = _clauses(body.get(name, []), name)
        return [f"({condition(q, columns, sql, depth + 1)})" for q in clauses]

    required = each("must") + each("filter")
    parts = list(required)
    should = each("should")
    minimum = body.get("minimum_should_match", 0 if required else 1)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
        raise BadRequest("bool.minimum_should_match must be a whole number")
    if should and minimum > 0:
        counted = " + ".join(f"({s})::int" for s in should)
        parts.append(f"({counted}) >= {minimum}")
    parts += [f"NOT {c}" for c in each("must_not")]
    return " AND ".join(parts) or "TRUE"


def search_sql(body: Any, table: ItemTable) -> store.Search:
    """``{"query": {...}}`` as the statements of a search of ``table``."""
    if not isinstance(body, dict) or set(body) != {"query"}:
        raise BadRequest('The body must be {"query": {...}} (the Elasticsearch query DSL)')
    sql = Condition(2)
    columns = frozenset({"id", table.type_column})
    return store.search(table, condition(body["query"], columns, sql), sql.args)
