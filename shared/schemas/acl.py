"""Who may change a schema collection: roles, checks, and the access list.

Reading stays open to every ``apollo_read`` token: type ids are global (``GET /{T}/{id}``
names no collection) and ER collections of any principal bind to a schema collection. Every
change needs a role on the collection, on top of the ``apollo_admin`` scope:

- ``editor``: write its type schemas (POST /{T}, DELETE /{T}/{id}, sync, publish, hierarchy,
  samples);
- ``admin``: also read and replace its access list (except owners);
- ``owner``: also add or remove owners, and delete the collection. Its creator is its owner.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import asyncpg

from shared.auth import store as auth_store
from shared.db import Executor
from shared.errors import BadRequest, Forbidden
from shared.grants import GrantRow, parse_grant_list
from shared.schemas.store import grants as grants_store
from shared.text import iso

MAX_GRANTS = 1000


class Role(IntEnum):
    """A role implies every lower one."""

    editor = 1
    admin = 2
    owner = 3

    @classmethod
    def parse(cls, value: object) -> Role:
        if isinstance(value, str) and value in cls.__members__:
            return cls[value]
        raise BadRequest(f"Unknown role {value!r}; roles are {', '.join(cls.__members__)}")


async def require_role(db: Executor, collection_id: str, principal_id: int, minimum: Role) -> Role:
    """The caller's role on the collection, if it is at least ``minimum`` (else 403)."""
    found = await grants_store.role_of(db, collection_id, principal_id)
    if found is None:
        raise Forbidden(
            f"Schema collection '{collection_id}': the caller holds no role on it; this call "
            f"needs '{minimum.name}'"
        )
    role = Role[found]
    if role < minimum:
        raise Forbidden(
            f"Schema collection '{collection_id}': the caller's role '{role.name}' does not "
            f"allow this call, which needs '{minimum.name}'"
        )
    return role


def parse_grants(body: Any) -> list[tuple[str, Role]]:
    """``{"grants": [{"principal": "bob", "role": "editor"}, ...]}``, the complete new list."""
    grants = parse_grant_list(body, Role.parse, MAX_GRANTS)
    if Role.owner not in grants.values():
        raise BadRequest("The access list must keep at least one owner")
    return list(grants.items())


def acl_json(collection_id: str, rows: list[GrantRow]) -> dict[str, Any]:
    grants = [
        {
            "principal": row.name,
            "principalId": row.principal_id,
            "role": row.role,
            "grantedOn": iso(row.granted_at),
        }
        for row in rows
    ]
    return {"schemaCollectionId": collection_id, "grants": grants}


async def read_acl(pool: asyncpg.Pool, collection_id: str) -> dict[str, Any]:
    return acl_json(collection_id, await grants_store.current(pool, collection_id))


async def replace_acl(
    pool: asyncpg.Pool,
    collection_id: str,
    caller_id: int,
    grants: list[tuple[str, Role]],
) -> dict[str, Any]:
    """Replace every grant; adding or removing an owner takes an owner (admins manage the rest)."""
    async with pool.acquire() as conn, conn.transaction():
        await grants_store.lock(conn, collection_id)
        role = await require_role(conn, collection_id, caller_id, Role.admin)
        current = await grants_store.current(conn, collection_id)
        owners_before = {row.name for row in current if row.role == Role.owner.name}
        owners_after = {name for name, granted in grants if granted is Role.owner}
        if owners_before != owners_after and role < Role.owner:
            raise Forbidden("Only an owner may add or remove owners")
        names = [name for name, _ in grants]
        ids = await auth_store.ensure_principals(conn, names)
        principal_ids = [ids[name] for name in names]
        roles = [granted.name for _, granted in grants]
        await grants_store.replace(conn, collection_id, principal_ids, roles, caller_id)
        return acl_json(collection_id, await grants_store.current(conn, collection_id))
