"""Writing type schemas: new types inserted, changed ones get a new version, the rest untouched.

Both the bulk endpoint and the sync job come through here, inside a transaction that holds the
collection's lock, with set-based writes (one statement per kind of change). What to write is
decided by :func:`shared.schemas.version_plan.plan_versions`, from what is read here first.
"""

from __future__ import annotations

import asyncpg

from shared.schemas.render import Rendered
from shared.schemas.store import collections as collections_store
from shared.schemas.store import typeschemas as typeschemas_store
from shared.schemas.version_plan import TypeSchemaWrites, plan_versions


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
    """Bring the collection's ``schema_type`` schemas to ``rendered`` (caller holds the lock);
    see :func:`plan_versions` for what changes."""
    current = await typeschemas_store.current_versions(conn, collection_id)
    elsewhere = await typeschemas_store.owners_elsewhere(
        conn, collection_id, [r.type_id for r in rendered]
    )
    plan = plan_versions(schema_type, rendered, current, elsewhere, retire_missing=retire_missing)
    outcome = plan.outcome
    await typeschemas_store.retire_current(conn, outcome.updated)
    await typeschemas_store.insert_versions(
        conn, collection_id, schema_type, plan.new_rows, release_version, principal_id,
        correlation_id,
    )  # fmt: skip
    # A type's active flag holds for all its versions: "every active schema (all versions)".
    await typeschemas_store.set_active(conn, plan.reactivated, True)
    await typeschemas_store.set_active(conn, outcome.inactivated, False)
    if plan.touches_collection:
        await collections_store.touch(conn, collection_id)
    return outcome
