"""Writing type schemas: new types inserted, changed ones get a new version, the rest untouched.

Both the bulk endpoint and the sync job come through here, inside a transaction that holds the
collection's lock, with set-based writes (one statement per kind of change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from shared.schemas.render import Rendered
from shared.schemas.store import collections as collections_store
from shared.schemas.store import typeschemas as typeschemas_store


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


async def write_versions(
    conn: asyncpg.Connection,
    collection_id: str,
    schema_type: str,
    rendered: list[Rendered],
    *,
    principal_id: int | None,
    release_version: str | None = None,
    retire_missing: bool = False,
    correlation_id: str | None = None,
) -> TypeSchemaWrites:
    """Bring the collection's ``schema_type`` schemas to ``rendered`` (caller holds the lock).

    ``retire_missing`` (a sync) marks inactive every active type that came from a release and
    is not in ``rendered``; hand-made types (posted, no release) are left alone.
    """
    current = await typeschemas_store.current_versions(conn, collection_id)
    # Type ids are global (GET /{T}/{id} names no collection): another collection's id fails.
    elsewhere = await typeschemas_store.owners_elsewhere(
        conn, collection_id, [r.type_id for r in rendered]
    )
    outcome = TypeSchemaWrites(attempted=len(rendered))
    seen: set[str] = set()
    new_rows: list[typeschemas_store.VersionRow] = []
    reactivated: list[str] = []
    for item in rendered:
        row = current.get(item.type_id)
        error = item.error
        if error is None and item.type_id in seen:
            error = "the same type id appears twice in this request"
        elif error is None and item.type_id in elsewhere:
            error = f"the type id belongs to schema collection '{elsewhere[item.type_id]}'"
        elif error is None and row is not None and row.schema_type != schema_type:
            error = f"the type id is taken by one of the collection's {row.schema_type}"
        seen.add(item.type_id)
        if error is not None:
            outcome.failed.append({"id": item.type_id, "reason": error})
            continue
        assert item.schema is not None and item.metadata is not None
        sha = item.sha256
        if row is not None and row.active and row.content_sha256 == sha:
            outcome.unchanged.append(item.type_id)
            continue
        (outcome.updated if row else outcome.inserted).append(item.type_id)
        if row is not None and not row.active:
            reactivated.append(item.type_id)
        version = row.version + 1 if row else 1
        new_rows.append((item.type_id, version, item.schema, sha, item.metadata, list(item.tags)))
    if retire_missing:
        outcome.inactivated = sorted(
            type_id
            for type_id, row in current.items()
            if row.schema_type == schema_type
            and row.active
            and row.release_version is not None
            and type_id not in seen
        )
    await typeschemas_store.retire_current(conn, outcome.updated)
    await typeschemas_store.insert_versions(
        conn, collection_id, schema_type, new_rows, release_version, principal_id, correlation_id
    )
    # A type's active flag holds for all its versions: "every active schema (all versions)".
    await typeschemas_store.set_active(conn, reactivated, True)
    await typeschemas_store.set_active(conn, outcome.inactivated, False)
    if new_rows or outcome.inactivated:
        await collections_store.touch(conn, collection_id)
    return outcome
