"""The search routes' query DSL turned into a WHERE clause: the SQL and arguments of each clause,
and a 400 for anything it does not support."""

from __future__ import annotations

from typing import Any

import pytest

from shared.er.tables import ENTITIES, RELATIONSHIPS
from shared.errors import BadRequest
from shared.graph.search import (
    MAX_CLAUSES,
    MAX_NESTING,
    SUPPORTED,
    Condition,
    condition,
    search_sql,
)

COLUMNS = frozenset({"id", "entity_type"})


def where(query: Any) -> tuple[str, list[Any]]:
    sql = Condition(2)
    return condition(query, COLUMNS, sql), sql.args


def refused(query: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        where(query)
    return str(caught.value)


def test_match_all() -> None:
    assert where({"match_all": {}}) == ("TRUE", [])


def test_match_is_case_insensitive_on_a_column() -> None:
    assert where({"match": {"entityType": "Brick_AHU"}}) == (
        "coalesce(lower(entity_type) = lower($2), false)",
        ["Brick_AHU"],
    )


def test_term_and_prefix_on_the_body() -> None:
    assert where({"term": {"name": {"query": "AHU-1"}}}) == (
        "coalesce((body ->> $2) = $3, false)",
        ["name", "AHU-1"],
    )
    assert where({"prefix": {"id": "ahu"}}) == ("coalesce(starts_with(id, $2), false)", ["ahu"])


def test_a_column_of_the_other_table_is_read_from_the_body() -> None:
    assert where({"term": {"relationshipType": "feeds"}}) == (
        "coalesce((body ->> $2) = $3, false)",
        ["relationshipType", "feeds"],
    )


def test_numbers_and_booleans_compare_as_json_text() -> None:
    assert where({"term": {"floor": 3}})[1] == ["floor", "3"]
    assert where({"term": {"on": True}})[1] == ["on", "true"]
    assert where({"term": {"ratio": 0.5}})[1] == ["ratio", "0.5"]
    assert refused({"term": {"x": None}}) == "term.x must be a string, number or boolean"
    assert refused({"term": {"x": [1]}}) == "term.x must be a string, number or boolean"


def test_terms() -> None:
    assert where({"terms": {"id": ["a", 1]}}) == (
        "coalesce(id = ANY($2::text[]), false)",
        [["a", "1"]],
    )
    assert refused({"terms": {"id": []}}) == "terms.id must be a non-empty list"
    assert refused({"terms": {"id": "a"}}) == "terms.id must be a non-empty list"


def test_clauses_take_one_field() -> None:
    message = '\'term\' takes one field: {"term": {"field": value}}'
    assert refused({"term": {"a": "x", "b": "y"}}) == message
    assert refused({"term": "x"}) == message


@pytest.mark.parametrize("name", ["", "1a", "a-b", "a" * 65, "a b"])
def test_field_names_are_checked(name: str) -> None:
    assert refused({"term": {name: "x"}}) == f"'{name}' is not a field name"


def test_field_names_up_to_64_characters() -> None:
    assert where({"term": {"a" * 64: "x"}})[1] == ["a" * 64, "x"]


def test_bool_must_should_must_not() -> None:
    sql, args = where(
        {
            "bool": {
                "must": {"term": {"id": "a"}},
                "filter": [{"term": {"id": "b"}}],
                "should": [{"term": {"id": "c"}}, {"term": {"id": "d"}}],
                "must_not": [{"term": {"id": "e"}}],
                "minimum_should_match": 1,
            }
        }
    )
    term = "coalesce(id = ${}, false)".format
    assert sql == (
        f"({term(2)}) AND ({term(3)}) AND ((({term(4)}))::int + (({term(5)}))::int) >= 1 "
        f"AND NOT ({term(6)})"
    )
    assert args == ["a", "b", "c", "d", "e"]


def test_should_alone_needs_one_match_and_beside_must_none() -> None:
    one = {"term": {"id": "a"}}
    alone, _ = where({"bool": {"should": [one]}})
    assert alone == "(((coalesce(id = $2, false)))::int) >= 1"
    beside_must, _ = where({"bool": {"must": [one], "should": [one]}})
    assert beside_must == "(coalesce(id = $2, false))"
    assert where({"bool": {}}) == ("TRUE", [])


def test_bool_options_are_checked() -> None:
    assert refused({"bool": {"must": [], "nor": []}}) == (
        "bool takes filter, minimum_should_match, must, must_not, should"
    )
    assert (
        refused({"bool": []}) == "bool takes filter, minimum_should_match, must, must_not, should"
    )
    assert refused({"bool": {"must": "x"}}) == "bool.must must be a query or a list of queries"
    for minimum in (-1, True, "1"):
        assert refused({"bool": {"minimum_should_match": minimum}}) == (
            "bool.minimum_should_match must be a whole number"
        )


def test_each_query_has_one_clause() -> None:
    message = f"Each query is an object with one clause: {SUPPORTED}"
    assert refused({}) == message
    assert refused([]) == message
    assert refused({"term": {"id": "a"}, "match_all": {}}) == message
    assert refused({"wildcard": {"id": "a*"}}) == (
        f"Unsupported query clause 'wildcard'; supported: {SUPPORTED}"
    )


def nested(levels: int) -> dict[str, Any]:
    query: dict[str, Any] = {"match_all": {}}
    for _ in range(levels):
        query = {"bool": {"must": [query]}}
    return query


def test_nesting_is_capped() -> None:
    assert where(nested(MAX_NESTING))[0].count("TRUE") == 1
    assert refused(nested(MAX_NESTING + 1)) == f"The query nests more than {MAX_NESTING} levels"


def test_clauses_are_capped() -> None:
    assert where({"bool": {"should": [{"match_all": {}}] * (MAX_CLAUSES - 1)}})[0]
    too_many = {"bool": {"should": [{"match_all": {}}] * MAX_CLAUSES}}
    assert refused(too_many) == f"The query has more than {MAX_CLAUSES} clauses"


def test_search_sql_wants_a_query_body() -> None:
    message = 'The body must be {"query": {...}} (the Elasticsearch query DSL)'
    for body in ([], {}, {"query": {}, "size": 1}):
        with pytest.raises(BadRequest) as caught:
            search_sql(body, ENTITIES)
        assert str(caught.value) == message


def test_search_sql_uses_each_tables_type_column() -> None:
    entities = search_sql({"query": {"term": {"entityType": "AHU"}}}, ENTITIES)
    assert entities.args == ["AHU"]
    assert "coalesce(entity_type = $2, false)" in entities.count
    relationships = search_sql({"query": {"term": {"relationshipType": "feeds"}}}, RELATIONSHIPS)
    assert "coalesce(relationship_type = $2, false)" in relationships.count
    assert "er_relationships" in relationships.page
