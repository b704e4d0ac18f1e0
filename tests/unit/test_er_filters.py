"""The OData subset of entity lists, compiled to SQL: exact SQL and arguments for each form, and
a 400 naming what is wrong for everything else (no PostgreSQL needed to check either)."""

from __future__ import annotations

import pytest

from shared.er.filters import (
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    NO_DISTANCE,
    SUPPORTED,
    ListQuery,
    Params,
    Parser,
    Token,
    parse_options,
    tokenize,
)
from shared.errors import BadRequest


def compiled(text: str, first: int = 1) -> tuple[str, list[object]]:
    params = Params(first)
    parser = Parser(text, "$filter", params)
    sql = parser.expression()
    parser.end()
    return sql, params.values


def refusal(text: str) -> str:
    with pytest.raises(BadRequest) as caught:
        compiled(text)
    return str(caught.value)


def test_tokens_carry_kind_text_and_position() -> None:
    assert tokenize("labels/any(d:d eq 'it''s') -1.5e3 .5", "$filter") == [
        Token("name", "labels", 0),
        Token("punct", "/", 6),
        Token("name", "any", 7),
        Token("punct", "(", 10),
        Token("name", "d", 11),
        Token("punct", ":", 12),
        Token("name", "d", 13),
        Token("name", "eq", 15),
        Token("string", "'it''s'", 18),
        Token("punct", ")", 25),
        Token("number", "-1.5e3", 27),
        Token("number", ".5", 34),
    ]
    assert tokenize("  ", "$filter") == []
    assert tokenize("a  ", "$filter") == [Token("name", "a", 0)]


def test_unexpected_text_is_named_with_what_follows() -> None:
    with pytest.raises(BadRequest) as caught:
        tokenize("labels ; drop table entities; and more text after it", "$filter")
    assert str(caught.value) == (
        "Unsupported $filter: unexpected text at ' ; drop table entities; and mo'"
    )


def test_params_number_after_the_enclosing_query() -> None:
    params = Params(4)
    assert params.add("a", "text") == "$4::text"
    assert params.add(2.0, "float8") == "$5::float8"
    assert params.values == ["a", 2.0]


def test_labels_any_with_a_quoted_quote() -> None:
    assert compiled("labels/any(d:d eq 'it''s')", first=3) == (
        "coalesce(labels @> ARRAY[$3::text], false)",
        ["it's"],
    )
    # Keywords and the lambda variable are case-insensitive; the label keeps its case.
    assert compiled("LABELS/ANY(X:x EQ 'Floor 1')") == (
        "coalesce(labels @> ARRAY[$1::text], false)",
        ["Floor 1"],
    )


def test_labels_any_wants_the_same_variable_and_a_string() -> None:
    assert "'e' where 'd' was expected" in refusal("labels/any(d:e eq 'x')")
    assert refusal("labels/any(d:d eq 5)") == (
        f"Unsupported $filter: '5' where a quoted label was expected; supported forms: {SUPPORTED}"
    )


def test_geolocation_eq_point() -> None:
    assert compiled("geolocation eq Point((1.5, -2))") == (
        "coalesce(geo_location ~= point($1::float8, $2::float8), false)",
        [1.5, -2.0],
    )
    assert refusal("geolocation eq Polygon((0,0),(1,0),(1,1))") == (
        "Unsupported $filter: geolocation eq takes a Point"
    )


def test_intersects_each_column_and_shape() -> None:
    assert compiled("intersects(geoBoundary, Point((1, 2)))") == (
        "coalesce(geo_boundary @> point($1::float8, $2::float8), false)",
        [1.0, 2.0],
    )
    assert compiled("intersects(geoBoundary, Polygon((0, 0), (1, 0), (1, 1)))") == (
        "coalesce(geo_boundary && ($1::text)::polygon, false)",
        ["((0.0,0.0),(1.0,0.0),(1.0,1.0))"],
    )
    assert compiled("intersects(geoLocation, Point((3, 4)))") == (
        "coalesce(geo_location ~= point($1::float8, $2::float8), false)",
        [3.0, 4.0],
    )
    assert compiled("intersects(geoLocation, Polygon((0, 0), (2, 0), (2, 2), (0, 2)))") == (
        "coalesce(geo_location <@ ($1::text)::polygon, false)",
        ["((0.0,0.0),(2.0,0.0),(2.0,2.0),(0.0,2.0))"],
    )


def test_a_polygon_needs_three_vertices() -> None:
    assert refusal("intersects(geoBoundary, Polygon((0, 0), (1, 1)))") == (
        "Unsupported $filter: a Polygon needs at least 3 vertices"
    )
    # A Point takes one vertex only: a second one is where ')' was expected.
    assert "',' where ')' was expected" in refusal("geolocation eq Point((0, 0), (1, 1))")


def test_coordinates_must_be_finite_numbers() -> None:
    assert "'x' where a number was expected" in refusal("geolocation eq Point((x, 1))")
    assert "where a number was expected" in refusal("geolocation eq Point((1e400, 1))")


def test_and_binds_tighter_than_or() -> None:
    sql, values = compiled(
        "labels/any(d:d eq 'a') or labels/any(d:d eq 'b') and labels/any(d:d eq 'c')"
    )
    a, b, c = (f"coalesce(labels @> ARRAY[${n}::text], false)" for n in (1, 2, 3))
    assert sql == f"({a} OR ({b} AND {c}))"
    assert values == ["a", "b", "c"]


def test_parentheses_and_not() -> None:
    sql, _ = compiled(
        "not (labels/any(d:d eq 'a') or labels/any(d:d eq 'b')) and labels/any(d:d eq 'c')"
    )
    a, b, c = (f"coalesce(labels @> ARRAY[${n}::text], false)" for n in (1, 2, 3))
    assert sql == f"(NOT ({a} OR {b}) AND {c})"
    assert compiled("(labels/any(d:d eq 'a'))")[0] == a
    assert compiled("NOT NOT labels/any(d:d eq 'a')")[0] == f"NOT NOT {a}"


def test_nesting_is_capped() -> None:
    label = "labels/any(d:d eq 'a')"
    assert compiled("(" * MAX_DEPTH + label + ")" * MAX_DEPTH)[0].startswith("coalesce(")
    too_deep = "(" * (MAX_DEPTH + 1) + label + ")" * (MAX_DEPTH + 1)
    assert refusal(too_deep) == f"Unsupported $filter: nested more than {MAX_DEPTH} levels"
    assert compiled("not " * MAX_DEPTH + label)[0].startswith("NOT ")
    assert "nested more than" in refusal("not " * (MAX_DEPTH + 1) + label)


def test_an_unknown_field_names_the_forms() -> None:
    assert refusal("name eq 'x'") == (
        "Unsupported $filter: 'name' where labels/any(...), geolocation eq Point(...) or "
        f"intersects(...) was expected; supported forms: {SUPPORTED}"
    )


def test_a_filter_that_stops_short_says_so() -> None:
    assert refusal("labels/any(d:d eq 'a'") == (
        "Unsupported $filter: it ends where ')' was expected"
    )
    assert refusal("labels/any(d:d eq 'a') and") == (
        "Unsupported $filter: it ends where labels/any(...), geolocation eq Point(...) or "
        "intersects(...) was expected"
    )


def test_trailing_text_is_refused() -> None:
    assert refusal("labels/any(d:d eq 'a') labels") == (
        f"Unsupported $filter: 'labels' where the end was expected; supported forms: {SUPPORTED}"
    )


def test_no_options_is_an_empty_query() -> None:
    assert parse_options({}, 3) == ListQuery()
    assert parse_options({"size": "5", "filter2": "x"}, 3) == ListQuery()


def test_a_filter_with_its_arguments_and_binding() -> None:
    query = parse_options({"$filter": "labels/any(d:d eq 'a')"}, 3)
    assert query == ListQuery(
        condition="coalesce(labels @> ARRAY[$3::text], false)",
        args=("a",),
        text="labels/any(d:d eq 'a')\x1f",
        condition_args=1,
    )
    assert parse_options({"filter": "labels/any(d:d eq 'a')"}, 3).condition == query.condition


def test_an_order_by_distance_follows_the_filter_arguments() -> None:
    query = parse_options(
        {
            "$filter": "labels/any(d:d eq 'a')",
            "$orderby": "distanceto(geoLocation, Point((10, 20))) desc",
        },
        2,
    )
    assert query.condition == "coalesce(labels @> ARRAY[$2::text], false)"
    assert query.args == ("a", 10.0, 20.0)
    assert query.condition_args == 1
    assert query.descending is True
    assert query.text == ("labels/any(d:d eq 'a')\x1fdistanceto(geoLocation, Point((10, 20))) desc")
    assert query.distance is not None
    assert query.distance.startswith("coalesce(2 * 6371.0088 * asin(least(1, sqrt(")
    assert query.distance.endswith(f"))), {NO_DISTANCE})")
    assert "radians($4::float8 - geo_location[1])" in query.distance
    assert "radians($3::float8 - geo_location[0])" in query.distance
    assert "cos(radians($4::float8))" in query.distance


def test_order_direction() -> None:
    order = "distanceto(geoLocation, Point((1, 2)))"
    ascending = parse_options({"$orderby": order + " asc"}, 1)
    assert (ascending.descending, ascending.condition, ascending.condition_args) == (False, None, 0)
    assert ascending.args == (1.0, 2.0)
    assert parse_options({"$orderby": order}, 1).descending is False
    assert parse_options({"$orderby": order + " DESC"}, 1).descending is True


def test_order_by_anything_but_a_point_distance_is_refused() -> None:
    with pytest.raises(BadRequest, match="distanceto takes a Point"):
        parse_options({"$orderby": "distanceto(geoLocation, Polygon((0,0),(1,0),(1,1)))"}, 1)
    with pytest.raises(BadRequest, match="'name' where 'distanceto' was expected"):
        parse_options({"$orderby": "name"}, 1)
    with pytest.raises(BadRequest, match="where the end was expected"):
        parse_options({"$orderby": "distanceto(geoLocation, Point((1, 2))) desc x"}, 1)


def test_unknown_options_are_named() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_options({"$top": "1", "$select": "id", "$filter": "x"}, 1)
    assert str(caught.value) == (
        "Unsupported query option $select, $top; supported: $filter, $orderby"
    )


def test_relationships_refuse_filters_and_orders() -> None:
    assert parse_options({}, 1, geo=False) == ListQuery()
    for option in ("$filter", "filter", "$orderby"):
        with pytest.raises(BadRequest) as caught:
            parse_options({option: "labels/any(d:d eq 'a')"}, 1, geo=False)
        assert str(caught.value) == "$filter and $orderby are not supported on relationships"


def test_a_filter_is_given_once() -> None:
    with pytest.raises(BadRequest, match="Give \\$filter once"):
        parse_options({"$filter": "labels/any(d:d eq 'a')", "filter": "labels/any(d:d eq 'b')"}, 1)


@pytest.mark.parametrize("option", ["$filter", "$orderby"])
def test_length_bounds(option: str) -> None:
    for text in ("", "   ", "x" * (MAX_FILTER_LENGTH + 1)):
        with pytest.raises(BadRequest) as caught:
            parse_options({option: text}, 1)
        assert str(caught.value) == f"{option} must be 1 to {MAX_FILTER_LENGTH} characters"


def test_the_longest_filter_is_parsed() -> None:
    label = "labels/any(d:d eq 'a')"
    text = label + " " * (MAX_FILTER_LENGTH - len(label))
    assert parse_options({"$filter": text}, 1).condition is not None


def test_unstorable_text_is_refused() -> None:
    with pytest.raises(BadRequest, match="cannot be stored"):
        parse_options({"$filter": "labels/any(d:d eq 'a\x00')"}, 1)
