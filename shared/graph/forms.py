"""The query forms of the Apollo graph pages, parsed into what to read; anything else is a 400
that says which forms there are.

``entities(...)`` holds ids (``A`` or ``A,B``), ``$filter=A`` or ``$select=eType:T``;
``relationships(...)`` holds ids, ``$filter=A`` or ``$select=rType:T``. ``$expand`` nests
relationship and entity levels: ``rType:R($expand=eType:E($expand=rType:R2($expand=eType:E2)))``,
``ALL`` for any type, up to ``MAX_LEVELS`` relationship levels.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import BadRequest
from shared.text import storable

MAX_LEVELS = 4
MAX_IDS = 100
ENTITY_FORMS = (
    "entities({id}), entities({id},{id}), entities($filter={id}), "
    "entities($select=eType:{entityType}), each with an optional "
    "$expand=rType:{relationshipType|ALL}($expand=eType:{entityType|ALL}(...))"
)
RELATIONSHIP_FORMS = (
    "relationships({id}), relationships({id},{id}), relationships($filter={id}), "
    "relationships($select=rType:{relationshipType})"
)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which items a parenthesised form names: ids, or every item of one type."""

    ids: tuple[str, ...] = ()
    type_id: str | None = None
    single: bool = False  # entities({id}) / $filter: one item, 404 when absent


@dataclass(frozen=True, slots=True)
class Level:
    """One hop of an expansion: relationships of ``relationship_type`` (None: any), and with
    ``embed`` their destination entities of ``entity_type`` (None: any)."""

    relationship_type: str | None
    embed: bool
    entity_type: str | None


def _name(text: str, what: str) -> str:
    value = text.strip()
    if value.startswith("{") and value.endswith("}"):  # the docs' own example keeps the braces
        value = value[1:-1]
    if not value or any(c in value for c in "(),$="):
        raise BadRequest(f"{what} names no type: '{text}'")
    return storable(value, what)


def selection(spec: str, kind: str) -> Selection:
    """``entities(...)`` or ``relationships(...)``'s contents."""
    prefix = "eType:" if kind == "entities" else "rType:"
    forms = ENTITY_FORMS if kind == "entities" else RELATIONSHIP_FORMS
    if spec.startswith("$select="):
        rest = spec[len("$select=") :]
        if not rest.startswith(prefix):
            raise BadRequest(f"Unsupported graph query '{kind}({spec})': {kind} takes {forms}")
        return Selection(type_id=_name(rest[len(prefix) :], "The type"))
    if spec.startswith("$filter="):
        wanted = storable(spec[len("$filter=") :], "The id")
        if not wanted:
            raise BadRequest(f"{kind}($filter=...) names no id")
        return Selection(ids=(wanted,), single=True)
    if spec.startswith("$"):
        raise BadRequest(f"Unsupported graph query '{kind}({spec})': {kind} takes {forms}")
    ids = tuple(storable(part.strip(), "The id") for part in spec.split(","))
    if not all(ids) or len(ids) > MAX_IDS:
        raise BadRequest(f"{kind}(...) takes 1 to {MAX_IDS} ids separated by commas")
    return Selection(ids=tuple(dict.fromkeys(ids)), single=len(ids) == 1)


class _Reader:
    """A small recursive-descent reader over one ``$expand`` value."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def take(self, literal: str) -> bool:
        if self.text.startswith(literal, self.at):
            self.at += len(literal)
            return True
        return False

    def name(self, what: str) -> str:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in "()":
            self.at += 1
        return _name(self.text[start : self.at], what)

    def fail(self, why: str) -> BadRequest:
        return BadRequest(
            f"Unsupported $expand '{self.text}' ({why} at character {self.at + 1}): "
            "$expand takes rType:{relationshipType|ALL}($expand=eType:{entityType|ALL}"
            "($expand=rType:...)), at most "
            f"{MAX_LEVELS} relationship levels"
        )


def _any(name: str) -> str | None:
    return None if name == "ALL" else name


def expansion(text: str | None) -> tuple[Level, ...]:
    """The levels of an ``$expand`` value (empty when there is none)."""
    if text is None:
        return ()
    reader, levels = _Reader(text), []
    while True:
        if not reader.take("rType:"):
            raise reader.fail("expected 'rType:'")
        relationship = _any(reader.name("The relationship type"))
        if not reader.take("($expand=eType:"):
            levels.append(Level(relationship, False, None))
            break
        entity = _any(reader.name("The entity type"))
        levels.append(Level(relationship, True, entity))
        if not reader.take("($expand="):
            break
    # Each embedded level opened one parenthesis, and each level followed by another one more.
    closing = 2 * len(levels) - 1 - (0 if levels[-1].embed else 1)
    if not reader.take(")" * closing) or reader.at != len(text):
        raise reader.fail("unbalanced parentheses or trailing text")
    if len(levels) > MAX_LEVELS:
        raise reader.fail(f"more than {MAX_LEVELS} levels")
    return tuple(levels)
