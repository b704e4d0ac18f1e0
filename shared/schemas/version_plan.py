"""What writing type schemas changes, decided without the database: which types are inserted,
which get a new version, which stay, which fail and why, and (a sync) which are retired.

:func:`plan_versions` reads only what :mod:`shared.schemas.versions` fetched first (each type's
current row in the collection and the ids another collection owns), so every rule of a bulk
write or a sync is a function of its inputs and is tested as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.schemas.render import Rendered
from shared.schemas.store.typeschemas import VersionRow

DUPLICATE = "the same type id appears twice in this request"


class Current(Protocol):
    """A type's current version in the collection (active or not), as the plan reads it."""

    @property
    def version(self) -> int: ...

    @property
    def schema_type(self) -> str: ...

    @property
    def content_sha256(self) -> str: ...

    @property
    def active(self) -> bool: ...

    @property
    def release_version(self) -> str | None: ...


@dataclass(slots=True)
class TypeSchemaWrites:
    attempted: int = 0
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    inactivated: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return (
            f"Attempted '{self.attempted}' schemas: inserted '{len(self.inserted)}' schemas, "
            f"updated '{len(self.updated)}' schemas, '{len(self.failed)}' failed"
        )

    @property
    def posted_reason(self) -> str:
        """createSchema's page spells it lower-case, the sync seed capitalised."""
        return "a" + self.reason[1:]

    @property
    def status(self) -> str:
        if not self.failed:
            return "success"
        return "failed" if len(self.failed) == self.attempted else "partial_success"

    def as_json(self, reason: str | None = None) -> dict[str, Any]:
        """``success`` lists the types this call changed (inserted or given a new version);
        ``failed`` the type ids that failed, as the doc has it, and ``failures`` why."""
        return {
            "status": self.status,
            "reason": reason or self.reason,
            "success": self.inserted + self.updated,
            "failed": [failure["id"] for failure in self.failed],
            "inserted": len(self.inserted),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "failures": self.failed,
        }


@dataclass(slots=True)
class VersionPlan:
    """The writes, in the order :func:`shared.schemas.versions.write_versions` makes them:
    ``outcome.updated`` stop being current, ``new_rows`` are inserted, ``reactivated`` become
    active again and ``outcome.inactivated`` inactive."""

    outcome: TypeSchemaWrites
    new_rows: list[VersionRow] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)

    @property
    def touches_collection(self) -> bool:
        """Whether the collection changed (a reactivation always comes with a new row)."""
        return bool(self.new_rows or self.outcome.inactivated)


def refusal(
    item: Rendered,
    row: Current | None,
    schema_type: str,
    seen: set[str],
    elsewhere: Mapping[str, str],
) -> str | None:
    """Why ``item`` cannot be written, the first reason that holds, or None."""
    if item.error is not None:
        return item.error
    if item.type_id in seen:
        return DUPLICATE
    if item.type_id in elsewhere:
        # Type ids are global (GET /{T}/{id} names no collection): another collection's id fails.
        return f"the type id belongs to schema collection '{elsewhere[item.type_id]}'"
    if row is not None and row.schema_type != schema_type:
        return f"the type id is taken by one of the collection's {row.schema_type}"
    return None


def plan_versions(
    schema_type: str,
    rendered: list[Rendered],
    current: Mapping[str, Current],
    elsewhere: Mapping[str, str],
    *,
    retire_missing: bool,
) -> VersionPlan:
    """Bring the collection's ``schema_type`` schemas to ``rendered``, given each type's
    ``current`` row in the collection and the type ids another collection owns (``elsewhere``).

    ``retire_missing`` (a sync) marks inactive every active type that came from a release and
    is not in ``rendered``; hand-made types (posted, no release) are left alone, and so is a
    type that is in ``rendered`` but failed.
    """
    plan = VersionPlan(TypeSchemaWrites(attempted=len(rendered)))
    outcome = plan.outcome
    seen: set[str] = set()
    for item in rendered:
        row = current.get(item.type_id)
        error = refusal(item, row, schema_type, seen, elsewhere)
        seen.add(item.type_id)
        if error is not None:
            outcome.failed.append({"id": item.type_id, "reason": error})
            continue
        assert item.schema is not None and item.metadata is not None  # pragma: no mutate
        sha = item.sha256
        if row is not None and row.active and row.content_sha256 == sha:
            outcome.unchanged.append(item.type_id)
            continue
        (outcome.updated if row is not None else outcome.inserted).append(item.type_id)
        if row is not None and not row.active:
            plan.reactivated.append(item.type_id)
        version = 1 if row is None else row.version + 1
        plan.new_rows.append(
            (item.type_id, version, item.schema, sha, item.metadata, list(item.tags))
        )
    if retire_missing:
        outcome.inactivated = sorted(
            type_id
            for type_id, row in current.items()
            if row.schema_type == schema_type
            and row.active
            and row.release_version is not None
            and type_id not in seen
        )
    return plan
