"""What a bulk write or a sync of type schemas changes, decided from what was read: new types
inserted at version 1, changed or reactivated ones given the next version, the rest unchanged;
refusals in their order of precedence; a sync retiring only released types it no longer has."""

from __future__ import annotations

from typing import Any

from shared.releases.bundle import content_sha256
from shared.schemas.render import ENTITY_TYPES, RELATIONSHIP_TYPES, Rendered
from shared.schemas.rows import CurrentVersion
from shared.schemas.version_plan import (
    DUPLICATE,
    TypeSchemaWrites,
    VersionPlan,
    plan_versions,
)

SCHEMA = {"title": "AHU", "type": "object"}
CHANGED = {"title": "AHU", "type": "object", "description": "changed"}
METADATA = {"class": "AHU"}


def rendered(type_id: str, schema: dict[str, Any] = SCHEMA, **changes: Any) -> Rendered:
    return Rendered(type_id, schema=schema, metadata=METADATA, tags=("AHU", "Equipment"), **changes)


def current(
    version: int = 1,
    schema: dict[str, Any] = SCHEMA,
    *,
    schema_type: str = ENTITY_TYPES,
    active: bool = True,
    release_version: str | None = "1.4",
) -> CurrentVersion:
    return CurrentVersion(
        "NS__AHU", version, schema_type, content_sha256(schema), active, release_version
    )


def plan(
    items: list[Rendered],
    now: dict[str, CurrentVersion] | None = None,
    elsewhere: dict[str, str] | None = None,
    *,
    retire_missing: bool = False,
) -> VersionPlan:
    return plan_versions(
        ENTITY_TYPES, items, now or {}, elsewhere or {}, retire_missing=retire_missing
    )


def test_a_new_type_is_inserted_at_version_one_with_its_row() -> None:
    result = plan([rendered("NS__AHU")])
    assert result.outcome.inserted == ["NS__AHU"]
    assert result.outcome.updated == result.outcome.unchanged == result.reactivated == []
    assert result.new_rows == [
        ("NS__AHU", 1, SCHEMA, content_sha256(SCHEMA), METADATA, ["AHU", "Equipment"])
    ]
    assert result.touches_collection


def test_a_changed_type_gets_the_next_version_and_an_unchanged_one_nothing() -> None:
    now = {"NS__AHU": current(3), "NS__VAV": current(2)}
    result = plan([rendered("NS__AHU", CHANGED), rendered("NS__VAV")], now)
    assert result.outcome.updated == ["NS__AHU"]
    assert result.outcome.unchanged == ["NS__VAV"]
    assert result.outcome.inserted == []
    assert [(row[0], row[1], row[3]) for row in result.new_rows] == [
        ("NS__AHU", 4, content_sha256(CHANGED))
    ]
    assert result.reactivated == []


def test_nothing_changed_writes_nothing_and_leaves_the_collection_alone() -> None:
    result = plan([rendered("NS__AHU")], {"NS__AHU": current()})
    assert result.outcome.unchanged == ["NS__AHU"]
    assert result.new_rows == []
    assert not result.touches_collection
    assert result.outcome.as_json()["success"] == []


def test_an_inactive_type_comes_back_as_a_new_version_even_with_the_same_content() -> None:
    now = {"NS__AHU": current(2, active=False), "NS__VAV": current(5, CHANGED, active=False)}
    result = plan([rendered("NS__AHU"), rendered("NS__VAV")], now)
    assert result.outcome.updated == ["NS__AHU", "NS__VAV"]
    assert result.outcome.unchanged == []
    assert result.reactivated == ["NS__AHU", "NS__VAV"]
    assert [row[1] for row in result.new_rows] == [3, 6]


def test_a_render_error_is_the_reason_and_nothing_is_written_for_it() -> None:
    result = plan([Rendered("NS__Bad", error="no such class")], {"NS__Bad": current()})
    assert result.outcome.failed == [{"id": "NS__Bad", "reason": "no such class"}]
    assert result.new_rows == [] and result.outcome.unchanged == []
    assert result.outcome.status == "failed"


def test_refusals_take_the_first_reason_that_holds() -> None:
    """Render error, then a repeat in the request, then another collection's id, then a type
    of the collection's other kind."""
    now = {"NS__Rel": current(schema_type=RELATIONSHIP_TYPES)}
    elsewhere = {"NS__Taken": "OTHER", "NS__Rel": "OTHER"}
    items = [
        rendered("NS__AHU"),
        rendered("NS__AHU", CHANGED),
        Rendered("NS__Taken", error="render says no"),
        rendered("NS__Taken"),
        rendered("NS__Rel"),
    ]
    result = plan(items, now, elsewhere)
    assert result.outcome.failed == [
        {"id": "NS__AHU", "reason": DUPLICATE},
        {"id": "NS__Taken", "reason": "render says no"},
        {"id": "NS__Taken", "reason": DUPLICATE},
        {"id": "NS__Rel", "reason": "the type id belongs to schema collection 'OTHER'"},
    ]
    assert result.outcome.inserted == ["NS__AHU"]  # the first of the two is written
    assert [row[2] for row in result.new_rows] == [SCHEMA]


def test_a_type_id_of_the_collections_other_kind_is_refused() -> None:
    result = plan([rendered("NS__feeds")], {"NS__feeds": current(schema_type=RELATIONSHIP_TYPES)})
    assert result.outcome.failed == [
        {"id": "NS__feeds", "reason": "the type id is taken by one of the collection's "
         "relationshiptypes"},
    ]  # fmt: skip
    assert result.new_rows == []


def test_a_sync_retires_only_active_released_types_of_its_kind_that_it_no_longer_has() -> None:
    now = {
        "NS__Kept": current(),
        "NS__Gone": current(),
        "NS__Also_Gone": current(),
        "NS__Posted": current(release_version=None),  # hand-made: left alone
        "NS__Asleep": current(active=False),  # already inactive
        "NS__feeds": current(schema_type=RELATIONSHIP_TYPES),  # the other kind
        "NS__Broken": current(),  # in the release but failed: not retired either
    }
    items = [rendered("NS__Kept"), Rendered("NS__Broken", error="bad")]
    result = plan(items, now, retire_missing=True)
    assert result.outcome.inactivated == ["NS__Also_Gone", "NS__Gone"]  # sorted
    assert result.outcome.unchanged == ["NS__Kept"]
    assert result.touches_collection  # a retirement alone changes the collection


def test_a_bulk_write_retires_nothing() -> None:
    result = plan([rendered("NS__Kept")], {"NS__Kept": current(), "NS__Gone": current()})
    assert result.outcome.inactivated == []
    assert not result.touches_collection


def test_an_empty_request_is_a_success_that_changes_nothing() -> None:
    result = plan([], {"NS__AHU": current()})
    assert result.outcome.attempted == 0 and result.outcome.status == "success"
    assert result.new_rows == [] and not result.touches_collection


def test_the_outcome_reports_counts_and_status_as_the_doc_has_them() -> None:
    outcome = TypeSchemaWrites(
        attempted=4, inserted=["A"], updated=["B"], unchanged=["C"],
        failed=[{"id": "D", "reason": "why"}],
    )  # fmt: skip
    assert outcome.reason == (
        "Attempted '4' schemas: inserted '1' schemas, updated '1' schemas, '1' failed"
    )
    assert outcome.posted_reason == (
        "attempted '4' schemas: inserted '1' schemas, updated '1' schemas, '1' failed"
    )
    assert outcome.status == "partial_success"
    assert outcome.as_json() == {
        "status": "partial_success",
        "reason": outcome.reason,
        "success": ["A", "B"],
        "failed": ["D"],
        "inserted": 1,
        "updated": 1,
        "unchanged": ["C"],
        "failures": [{"id": "D", "reason": "why"}],
    }
    assert outcome.as_json("given")["reason"] == "given"
    assert TypeSchemaWrites(attempted=1, failed=[{"id": "D", "reason": "why"}]).status == "failed"
    assert TypeSchemaWrites(attempted=1, inserted=["A"]).status == "success"
