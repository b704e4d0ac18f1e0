"""The access list of an ER collection: read it, or replace it as a whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.er.access import ErCollection, Role
from shared.errors import BadRequest, Forbidden
from shared.grants import parse_grant_list
from shared.text import iso

LOCK_COLLECTION = "SELECT id FROM er_collections WHERE id = $1 FOR UPDATE"
CURRENT_GRANTS = """
SELECT p.id AS principal_id, p.name, g.role, g.granted_at
FROM er_collection_grants g JOIN principals p ON p.id = g.principal_id
WHERE g.collection_id = $1
ORDER BY p.name
"""
# Grants may name principals that never signed in yet: they are created here by name.
ENSURE_PRINCIPALS = """
INSERT INTO principals (name) SELECT unnest($1::text[])
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id, name
"""
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
MAX_GRANTS = 1000


@dataclass(frozen=True, slots=True)
class Grant:
    principal: str
    role: Role


def parse_grants(body: Any) -> list[Grant]:
    """``{"grants": [{"principal": "bob", "role": "readwrite"}, ...]}``, the complete new list."""
    grants = parse_grant_list(body, Role.parse, MAX_GRANTS)
    if Role.owner not in grants.values():
        raise BadRequest("The access list must keep at least one owner")
    return [Grant(name, role) for name, role in grants.items()]


def acl_json(collection_id: str, rows: list[asyncpg.Record]) -> dict[str, Any]:
    return {
        "erCollectionId": collection_id,
        "grants": [
            {
                "principal": row["name"],
                "principalId": row["principal_id"],
                "role": row["role"],
                "grantedOn": iso(row["granted_at"]),
            }
            for row in rows
        ],
    }


async def read_acl(pool: asyncpg.Pool, collection: ErCollection) -> dict[str, Any]:
    return acl_json(collection.id, await pool.fetch(CURRENT_GRANTS, collection.id))


async def replace_acl(
    pool: asyncpg.Pool, collection: ErCollection, caller_id: int, grants: list[Grant]
) -> dict[str, Any]:
    """Replace every grant; adding or removing an owner takes an owner (admins manage the rest)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(LOCK_COLLECTION, collection.id)
        current = await conn.fetch(CURRENT_GRANTS, collection.id)
        owners_before = {row["name"] for row in current if row["role"] == Role.owner.name}
        owners_after = {grant.principal for grant in grants if grant.role is Role.owner}
        if owners_before != owners_after and collection.role < Role.owner:
            raise Forbidden("Only an owner may add or remove owners")
        ids = {
            row["name"]: row["id"]
            for row in await conn.fetch(ENSURE_PRINCIPALS, [g.principal for g in grants])
        }
        principal_ids = [ids[grant.principal] for grant in grants]
        await conn.execute(DROP_OTHER_GRANTS, collection.id, principal_ids)
        await conn.execute(
            UPSERT_GRANTS,
            collection.id,
            principal_ids,
            [grant.role.name for grant in grants],
            caller_id,
        )
        return acl_json(collection.id, await conn.fetch(CURRENT_GRANTS, collection.id))
