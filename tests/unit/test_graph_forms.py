"""The Apollo graph pages' query forms: what each parses into, and the 400 for anything else."""

from __future__ import annotations

import pytest

from shared.errors import BadRequest
from shared.graph.forms import (
    ENTITY_FORMS,
    MAX_IDS,
    MAX_LEVELS,
    RELATIONSHIP_FORMS,
    Level,
    Selection,
    expansion,
    selection,
)


def refused(call: object, *args: object) -> str:
    with pytest.raises(BadRequest) as caught:
        call(*args)  # type: ignore[operator]
    return str(caught.value)


def test_ids() -> None:
    assert selection("A", "entities") == Selection(ids=("A",), single=True)
    assert selection(" A , B ", "entities") == Selection(ids=("A", "B"), single=False)
    # A repeated id is read once, in first-seen order.
    assert selection("B,A,B", "relationships") == Selection(ids=("B", "A"), single=False)
    assert selection("A,A", "entities") == Selection(ids=("A",), single=False)


def test_id_count_bounds() -> None:
    many = ",".join(f"e{n}" for n in range(MAX_IDS))
    assert len(selection(many, "entities").ids) == MAX_IDS
    message = f"entities(...) takes 1 to {MAX_IDS} ids separated by commas"
    assert refused(selection, many + ",extra", "entities") == message
    assert refused(selection, "A,,B", "entities") == message
    assert refused(selection, "", "relationships") == (
        f"relationships(...) takes 1 to {MAX_IDS} ids separated by commas"
    )


def test_filter_names_one_item() -> None:
    assert selection("$filter=A", "entities") == Selection(ids=("A",), single=True)
    assert refused(selection, "$filter=", "entities") == "entities($filter=...) names no id"


def test_select_by_type() -> None:
    assert selection("$select=eType:Brick_AHU", "entities") == Selection(type_id="Brick_AHU")
    # The docs' own example keeps the placeholder's braces.
    assert selection("$select=rType:{feeds}", "relationships") == Selection(type_id="feeds")
    assert selection("$select=eType: AHU ", "entities").type_id == "AHU"


def test_select_takes_the_family_prefix() -> None:
    assert refused(selection, "$select=rType:feeds", "entities") == (
        f"Unsupported graph query 'entities($select=rType:feeds)': entities takes {ENTITY_FORMS}"
    )
    assert refused(selection, "$select=eType:AHU", "relationships") == (
        "Unsupported graph query 'relationships($select=eType:AHU)': relationships takes "
        f"{RELATIONSHIP_FORMS}"
    )


@pytest.mark.parametrize("name", ["", "{}", "a(b", "a)b", "a,b", "a$b", "a=b"])
def test_a_type_name_must_name_a_type(name: str) -> None:
    assert refused(selection, "$select=eType:" + name, "entities") == (
        f"The type names no type: '{name}'"
    )


def test_other_options_are_refused() -> None:
    assert refused(selection, "$top=1", "entities") == (
        f"Unsupported graph query 'entities($top=1)': entities takes {ENTITY_FORMS}"
    )


def test_unstorable_ids_are_refused() -> None:
    for spec in ("a\x00", "$filter=a\x00", "$select=eType:a\x00"):
        assert "cannot be stored" in refused(selection, spec, "entities")


def test_no_expansion() -> None:
    assert expansion(None) == ()


def test_one_relationship_level() -> None:
    assert expansion("rType:feeds") == (Level("feeds", False, None),)
    assert expansion("rType:ALL") == (Level(None, False, None),)


def test_embedded_entity_levels() -> None:
    assert expansion("rType:feeds($expand=eType:AHU)") == (Level("feeds", True, "AHU"),)
    assert expansion("rType:ALL($expand=eType:ALL)") == (Level(None, True, None),)
    assert expansion("rType:feeds($expand=eType:AHU($expand=rType:hasPoint))") == (
        Level("feeds", True, "AHU"),
        Level("hasPoint", False, None),
    )
    assert expansion(
        "rType:feeds($expand=eType:AHU($expand=rType:hasPoint($expand=eType:Sensor)))"
    ) == (Level("feeds", True, "AHU"), Level("hasPoint", True, "Sensor"))


def deep(levels: int) -> str:
    text = "rType:r"
    for _ in range(levels - 1):
        text += "($expand=eType:E($expand=rType:r"
    return text + "))" * (levels - 1)


def test_levels_are_capped() -> None:
    assert len(expansion(deep(MAX_LEVELS))) == MAX_LEVELS
    assert refused(expansion, deep(MAX_LEVELS + 1)) == (
        f"Unsupported $expand '{deep(MAX_LEVELS + 1)}' (more than {MAX_LEVELS} levels at character "
        f"{len(deep(MAX_LEVELS + 1)) + 1}): $expand takes rType:{{relationshipType|ALL}}"
        f"($expand=eType:{{entityType|ALL}}($expand=rType:...)), at most {MAX_LEVELS} "
        "relationship levels"
    )


@pytest.mark.parametrize(
    ("text", "why", "at"),
    [
        ("eType:AHU", "expected 'rType:'", 1),
        ("rType:feeds($expand=eType:AHU", "unbalanced parentheses or trailing text", 30),
        ("rType:feeds($expand=eType:AHU))", "unbalanced parentheses or trailing text", 31),
        ("rType:feeds)", "unbalanced parentheses or trailing text", 12),
        (
            "rType:feeds($expand=eType:AHU($expand=rType:x)",
            "unbalanced parentheses or trailing text",
            46,
        ),
        ("rType:feeds($expand=eType:AHU($expand=eType:x))", "expected 'rType:'", 39),
    ],
)
def test_malformed_expansions_say_where(text: str, why: str, at: int) -> None:
    assert refused(expansion, text).startswith(
        f"Unsupported $expand '{text}' ({why} at character {at}):"
    )


def test_expansion_type_names_are_checked() -> None:
    assert refused(expansion, "rType:") == "The relationship type names no type: ''"
    assert refused(expansion, "rType:feeds($expand=eType:)") == (
        "The entity type names no type: ''"
    )
