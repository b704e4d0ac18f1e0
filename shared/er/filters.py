"""The OData subset the Apollo docs use on entity lists, compiled to SQL over indexed columns.

``$filter``: ``labels/any(d:d eq '...')``, ``geolocation eq Point((x, y))``,
``intersects(geoBoundary | geoLocation, Point((x, y)) | Polygon((x, y), ...))``, joined with
``and`` / ``or`` / ``not`` and parentheses. ``$orderby``: ``distanceto(geoLocation, Point((x, y)))``
(great-circle kilometres, nearest first; ``desc`` reverses). Anything else is a 400 that names
what is not supported: a list is never answered unfiltered.

Coordinates are GeoJSON's (x = longitude, y = latitude), as the docs' examples pair them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import BadRequest
from shared.text import storable

MAX_FILTER_LENGTH = 4000
MAX_DEPTH = 32
FILTER_PARAMS = ("$filter", "filter")
ORDER_PARAM = "$orderby"
SUPPORTED = (
    "labels/any(d:d eq '...'), geolocation eq Point((x, y)), "
    "intersects(geoBoundary|geoLocation, Point((x, y))|Polygon((x, y), ...)), "
    "joined with and/or/not"
)
EARTH_RADIUS_KM = 6371.0088
# Entities without a geoLocation sort after every real distance (at most half the equator).
NO_DISTANCE = 1e9

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<string>'(?:[^']|'')*')|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()/:,]))"
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    at: int


def tokenize(text: str, what: str) -> list[Token]:
    tokens, at = [], 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            raise BadRequest(f"Unsupported {what}: unexpected text at '{text[at : at + 30]}'")
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        at = match.end()
    return tokens


@dataclass(slots=True)
class Params:
    """SQL parameters, numbered after the ones the enclosing query already uses."""

    first: int
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${self.first + len(self.values) - 1}::{cast}"


class Parser:
    def __init__(self, text: str, what: str, params: Params) -> None:
        self.what, self.params = what, params
        self.tokens = tokenize(text, what)
        self.at = 0

    def fail(self, expected: str) -> BadRequest:
        if self.at >= len(self.tokens):
            return BadRequest(f"Unsupported {self.what}: it ends where {expected} was expected")
        found = self.tokens[self.at].text
        return BadRequest(
            f"Unsupported {self.what}: '{found}' where {expected} was expected; "
            f"supported forms: {SUPPORTED}"
        )

    def peek(self) -> str | None:
        return self.tokens[self.at].text.lower() if self.at < len(self.tokens) else None

    def take(self, *expected: str) -> Token:
        word = self.peek()
        if word is None or (expected and word not in expected):
            raise self.fail(" or ".join(f"'{e}'" for e in expected) or "more")
        self.at += 1
        return self.tokens[self.at - 1]

    def number(self) -> float:
        token = self.take()
        if token.kind != "number" or not math.isfinite(value := float(token.text)):
            self.at -= 1
            raise self.fail("a number")
        return value

    def pair(self) -> tuple[float, float]:
        self.take("(")
        x = self.number()
        self.take(",")
        y = self.number()
        self.take(")")
        return x, y

    def geometry(self) -> tuple[str, list[tuple[float, float]]]:
        kind = self.take("point", "polygon").text.lower()
        self.take("(")
        vertices = [self.pair()]
        while kind == "polygon" and self.peek() == ",":
            self.take(",")
            vertices.append(self.pair())
        self.take(")")
        if kind == "polygon" and len(vertices) < 3:
            raise BadRequest(f"Unsupported {self.what}: a Polygon needs at least 3 vertices")
        return kind, vertices

    def point_sql(self, vertex: tuple[float, float]) -> str:
        x, y = vertex
        return f"point({self.params.add(x, 'float8')}, {self.params.add(y, 'float8')})"

    def polygon_sql(self, vertices: list[tuple[float, float]]) -> str:
        text = "(" + ",".join(f"({x!r},{y!r})" for x, y in vertices) + ")"
        return f"({self.params.add(text, 'text')})::polygon"

    def expression(self, depth: int = 0) -> str:
        terms = [self.conjunction(depth)]
        while self.peek() == "or":
            self.take("or")
            terms.append(self.conjunction(depth))
        return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"

    def conjunction(self, depth: int) -> str:
        factors = [self.factor(depth)]
        while self.peek() == "and":
            self.take("and")
            factors.append(self.factor(depth))
        return factors[0] if len(factors) == 1 else "(" + " AND ".join(factors) + ")"

    def factor(self, depth: int) -> str:
        # Checked here, where both parentheses and ``not`` recurse: a long run of ``not`` alone
        # would otherwise reach Python's recursion limit (a 500).
        if depth > MAX_DEPTH:
            raise BadRequest(f"Unsupported {self.what}: nested more than {MAX_DEPTH} levels")
        word = self.peek()
        if word == "(":
            self.take("(")
            inner = self.expression(depth + 1)
            self.take(")")
            return inner
        if word == "not":
            self.take("not")
            return f"NOT {self.factor(depth + 1)}"
        if word == "labels":
            return self.labels_any()
        if word == "geolocation":
            self.take("geolocation")
            self.take("eq")
            kind, vertices = self.geometry()
            if kind != "point":
                raise BadRequest(f"Unsupported {self.what}: geolocation eq takes a Point")
            return f"coalesce(geo_location ~= {self.point_sql(vertices[0])}, false)"
        if word == "intersects":
            return self.intersects()
        raise self.fail("labels/any(...), geolocation eq Point(...) or intersects(...)")

    def labels_any(self) -> str:
        self.take("labels")
        self.take("/")
        self.take("any")
        self.take("(")
        variable = self.take().text
        self.take(":")
        self.take(variable.lower())
        self.take("eq")
        token = self.take()
        if token.kind != "string":
            self.at -= 1
            raise self.fail("a quoted label")
        self.take(")")
        label = token.text[1:-1].replace("''", "'")
        return f"coalesce(labels @> ARRAY[{self.params.add(label, 'text')}], false)"

    def intersects(self) -> str:
        self.take("intersects")
        self.take("(")
        column = self.take("geoboundary", "geolocation").text.lower()
        self.take(",")
        kind, vertices = self.geometry()
        self.take(")")
        if column == "geoboundary":
            shape = self.point_sql(vertices[0]) if kind == "point" else self.polygon_sql(vertices)
            operator = "@>" if kind == "point" else "&&"
            return f"coalesce(geo_boundary {operator} {shape}, false)"
        if kind == "point":
            return f"coalesce(geo_location ~= {self.point_sql(vertices[0])}, false)"
        return f"coalesce(geo_location <@ {self.polygon_sql(vertices)}, false)"

    def distance(self) -> tuple[str, bool]:
        self.take("distanceto")
        self.take("(")
        self.take("geolocation")
        self.take(",")
        kind, vertices = self.geometry()
        self.take(")")
        if kind != "point":
            raise BadRequest(f"Unsupported {self.what}: distanceto takes a Point")
        descending = False
        if self.peek() in ("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        x = self.params.add(vertices[0][0], "float8")
        y = self.params.add(vertices[0][1], "float8")
        haversine = (
            f"2 * {EARTH_RADIUS_KM} * asin(least(1, sqrt("
            f"power(sin(radians({y} - geo_location[1]) / 2), 2) + cos(radians(geo_location[1])) "
            f"* cos(radians({y})) * power(sin(radians({x} - geo_location[0]) / 2), 2))))"
        )
        return f"coalesce({haversine}, {NO_DISTANCE})", descending

    def end(self) -> None:
        if self.at < len(self.tokens):
            raise self.fail("the end")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list's OData options add to its SQL: a condition, an order, their arguments."""

    condition: str | None = None
    distance: str | None = None
    descending: bool = False
    args: tuple[Any, ...] = ()
    text: str = ""
    condition_args: int = 0  # the condition's arguments come first; the order's follow  # the options as sent, for binding continuation tokens to them


def parse_options(query: Mapping[str, str], first_param: int, *, geo: bool = True) -> ListQuery:
    """The list's OData options; ``first_param`` is the first free SQL parameter number.

    ``geo=False`` (relationships) refuses ``$filter`` and ``$orderby``: nothing of theirs is
    stored to filter on."""
    options = {name: value for name, value in query.items() if name.startswith("$")}
    unknown = sorted(set(options) - {"$filter", ORDER_PARAM})
    if unknown:
        raise BadRequest(
            f"Unsupported query option {', '.join(unknown)}; supported: $filter, $orderby"
        )
    filters = [query[name] for name in FILTER_PARAMS if name in query]
    order = query.get(ORDER_PARAM)
    if not filters and order is None:
        return ListQuery()
    if not geo:
        raise BadRequest("$filter and $orderby are not supported on relationships")
    if len(filters) > 1:
        raise BadRequest("Give $filter once")
    params = Params(first_param)
    condition = distance = None
    condition_args = 0
    descending = False
    for text, what in ((filters[0] if filters else None, "$filter"), (order, ORDER_PARAM)):
        if text is None:
            continue
        if len(text) > MAX_FILTER_LENGTH or not text.strip():
            raise BadRequest(f"{what} must be 1 to {MAX_FILTER_LENGTH} characters")
        storable(text, what)
        parser = Parser(text, what, params)
        if what == "$filter":
            condition = parser.expression()
            condition_args = len(params.values)
        else:
            distance, descending = parser.distance()
        parser.end()
    text = f"{filters[0] if filters else ''}\x1f{order or ''}"
    return ListQuery(condition, distance, descending, tuple(params.values), text, condition_args)
