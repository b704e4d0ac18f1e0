"""The access list of an ER collection: read it, or replace it as a whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.auth import store as auth_store
from shared.er.access import ErCollection, Role
from shared.er.store import collections as collections_store
from shared.errors import BadRequest, Forbidden
from shared.grants import GrantRow, parse_grant_list
from shared.text import iso

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


def acl_json(collection_id: str, rows: list[GrantRow]) -> dict[str, Any]:
    return {
        "erCollectionId": collection_id,
        "grants": [
            {
                "principal": row.name,
                "principalId": row.principal_id,
                "role": row.role,
                "grantedOn": iso(row.granted_at),
            }
            for row in rows
        ],
    }


async def read_acl(pool: asyncpg.Pool, collection: ErCollection) -> dict[str, Any]:
    return acl_json(collection.id, await collections_store.grants(pool, collection.id))


async def replace_acl(
    pool: asyncpg.Pool, collection: ErCollection, caller_id: int, grants: list[Grant]
) -> dict[str, Any]:
    """Replace every grant; adding or removing an owner takes an owner (admins manage the rest)."""
    async with pool.acquire() as conn, conn.transaction():
        await collections_store.lock_collection(conn, collection.id)
        current = await collections_store.grants(conn, collection.id)
        owners_before = {row.name for row in current if row.role == Role.owner.name}
        owners_after = {grant.principal for grant in grants if grant.role is Role.owner}
        if owners_before != owners_after and collection.role < Role.owner:
            raise Forbidden("Only an owner may add or remove owners")
        ids = await auth_store.ensure_principals(conn, [grant.principal for grant in grants])
        principal_ids = [ids[grant.principal] for grant in grants]
        await collections_store.drop_other_grants(conn, collection.id, principal_ids)
        roles = [grant.role.name for grant in grants]
        await collections_store.upsert_grants(conn, collection.id, principal_ids, roles, caller_id)
        return acl_json(collection.id, await collections_store.grants(conn, collection.id))
