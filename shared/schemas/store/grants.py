"""SQL for the roles principals hold on schema collections, with thin typed functions over it."""

from __future__ import annotations

import asyncpg

from shared.db import Executor, fetch_as
from shared.grants import GrantRow

ROLE_OF = """
SELECT role FROM schema_collection_grants WHERE collection_id = $1 AND principal_id = $2
"""
GRANT_OWNER = """
INSERT INTO schema_collection_grants (collection_id, principal_id, role, granted_by)
VALUES ($1, $2, 'owner', $2)
"""
CURRENT_GRANTS = """
SELECT p.id AS principal_id, p.name, g.role, g.granted_at
FROM schema_collection_grants g JOIN principals p ON p.id = g.principal_id
WHERE g.collection_id = $1
ORDER BY p.name
"""
# The collection's row lock: two replacements of one access list take turns.
LOCK_GRANTS = "SELECT id FROM schema_collections WHERE id = $1 FOR UPDATE"
DROP_OTHER_GRANTS = """
DELETE FROM schema_collection_grants
WHERE collection_id = $1 AND NOT (principal_id = ANY($2::bigint[]))
"""
# A grant whose role is unchanged keeps who granted it and when.
UPSERT_GRANTS = """
INSERT INTO schema_collection_grants (collection_id, principal_id, role, granted_by)
SELECT $1, g.principal_id, g.role, $4
FROM unnest($2::bigint[], $3::text[]) AS g(principal_id, role)
ON CONFLICT (collection_id, principal_id) DO UPDATE
SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now()
WHERE schema_collection_grants.role <> EXCLUDED.role
"""


async def role_of(db: Executor, collection_id: str, principal_id: int) -> str | None:
    role: str | None = await db.fetchval(ROLE_OF, collection_id, principal_id)
    return role


async def grant_owner(conn: asyncpg.Connection, collection_id: str, principal_id: int) -> None:
    """The collection's creator becomes its owner, granted by itself."""
    await conn.execute(GRANT_OWNER, collection_id, principal_id)


async def current(db: Executor, collection_id: str) -> list[GrantRow]:
    """The collection's access list, by principal name."""
    return await fetch_as(db, GrantRow, CURRENT_GRANTS, collection_id)


async def lock(conn: asyncpg.Connection, collection_id: str) -> None:
    await conn.execute(LOCK_GRANTS, collection_id)


async def replace(
    conn: asyncpg.Connection,
    collection_id: str,
    principal_ids: list[int],
    roles: list[str],
    granted_by: int,
) -> None:
    """Make the grants exactly these (``principal_ids[i]`` holds ``roles[i]``)."""
    await conn.execute(DROP_OTHER_GRANTS, collection_id, principal_ids)
    await conn.execute(UPSERT_GRANTS, collection_id, principal_ids, roles, granted_by)
