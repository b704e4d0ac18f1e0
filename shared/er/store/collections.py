"""ER collections and their grants (``er_collections``, ``er_collection_grants``): registration,
each caller's role, and the access list."""

from __future__ import annotations

import asyncpg

from shared.db import Executor, fetch_as, fetchrow_as
from shared.er.rows import CollectionRole
from shared.grants import GrantRow

FIND_SCHEMA_COLLECTION = "SELECT id FROM schema_collections WHERE id_key = lower($1)"
INSERT_COLLECTION = """
INSERT INTO er_collections (id, id_key, schema_collection_id, created_by)
VALUES ($1, lower($1), $2, $3)
ON CONFLICT (id_key) DO NOTHING
RETURNING id, schema_collection_id, created_by, created_at, 'owner' AS role
"""
GRANT_OWNER = """
INSERT INTO er_collection_grants (collection_id, principal_id, role, granted_by)
VALUES ($1, $2, 'owner', $2)
"""
# With the schema collection's types generation (migration 025): a batch's type schemas are
# then found in memory when this process has read them at that generation.
FIND_WITH_ROLE = """
SELECT c.id, c.schema_collection_id, c.created_by, c.created_at, g.role, c.id_key,
       s.types_generation AS schema_generation
FROM er_collections c
LEFT JOIN er_collection_grants g ON g.collection_id = c.id AND g.principal_id = $2
LEFT JOIN schema_collections s ON s.id = c.schema_collection_id
WHERE c.id_key = ANY($1::text[])
"""
LIST_FOR_PRINCIPAL = """
SELECT c.id, c.schema_collection_id, c.created_by, c.created_at, g.role
FROM er_collection_grants g JOIN er_collections c ON c.id = g.collection_id
WHERE g.principal_id = $1
ORDER BY c.id_key
"""
LOCK_COLLECTION = "SELECT id FROM er_collections WHERE id = $1 FOR UPDATE"
CURRENT_GRANTS = """
SELECT p.id AS principal_id, p.name, g.role, g.granted_at
FROM er_collection_grants g JOIN principals p ON p.id = g.principal_id
WHERE g.collection_id = $1
ORDER BY p.name
"""
# Grants may name principals that never signed in yet: they are created here by name.
DROP_OTHER_GRANTS = """
DELETE FROM er_collection_grants WHERE collection_id = $1 AND NOT (principal_id = ANY($2::bigint[]))
"""
UPSERT_GRANTS = """
INSERT INTO er_collection_grants (collection_id, principal_id, role, granted_by)
SELECT $1, g.principal_id, g.role, $4
FROM unnest($2::bigint[], $3::text[]) AS g(principal_id, role)
ON CONFLICT (collection_id, principal_id) DO UPDATE
SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now()
WHERE er_collection_grants.role <> EXCLUDED.role
"""


async def find_schema_collection(db: Executor, name: str) -> str | None:
    """The id of the schema collection named ``name`` (any casing), or None."""
    found: str | None = await db.fetchval(FIND_SCHEMA_COLLECTION, name)
    return found


async def insert_collection(
    db: Executor, collection_id: str, schema_collection_id: str, created_by: int
) -> CollectionRole | None:
    """The new collection, as its creator (its owner) sees it; None if the id is taken."""
    return await fetchrow_as(
        db, CollectionRole, INSERT_COLLECTION, collection_id, schema_collection_id, created_by
    )


async def grant_owner(db: Executor, collection_id: str, principal_id: int) -> None:
    await db.execute(GRANT_OWNER, collection_id, principal_id)


async def with_roles(db: Executor, id_keys: list[str], principal_id: int) -> list[CollectionRole]:
    """The collections of ``id_keys`` (lower-cased ids), each with the principal's role (None:
    no grant)."""
    return await fetch_as(db, CollectionRole, FIND_WITH_ROLE, id_keys, principal_id)


async def list_for_principal(db: Executor, principal_id: int) -> list[CollectionRole]:
    """The collections the principal holds any role on, by id."""
    return await fetch_as(db, CollectionRole, LIST_FOR_PRINCIPAL, principal_id)


async def lock_collection(conn: asyncpg.Connection, collection_id: str) -> None:
    """Hold the collection's row until the caller's transaction ends: access-list changes to
    one collection run one at a time."""
    await conn.execute(LOCK_COLLECTION, collection_id)


async def grants(db: Executor, collection_id: str) -> list[GrantRow]:
    """The collection's access list, by principal name."""
    return await fetch_as(db, GrantRow, CURRENT_GRANTS, collection_id)


async def drop_other_grants(db: Executor, collection_id: str, kept: list[int]) -> None:
    """Remove the grants of every principal not in ``kept``."""
    await db.execute(DROP_OTHER_GRANTS, collection_id, kept)


async def upsert_grants(
    db: Executor, collection_id: str, principal_ids: list[int], roles: list[str], granted_by: int
) -> None:
    """Grant each principal its role; an unchanged grant keeps who granted it and when."""
    await db.execute(UPSERT_GRANTS, collection_id, principal_ids, roles, granted_by)
