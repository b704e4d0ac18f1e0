"""Organizations: the name-spaces schemas live in, each with its ACL."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.auth import Principal
from shared.db import Executor
from shared.errors import BadRequest, NotFound, PreconditionFailed
from shared.registry import store, wire
from shared.registry.acl import (
    CREATOR_ACCESS,
    Access,
    parse_acl,
    require_access,
    require_known_principals,
)
from shared.registry.ids import validate_organization_name
from shared.registry.rows import Organization


def organization_not_found(name: str) -> NotFound:
    # Synapse clients look for "not found" in the message to tell absence from failure.
    return NotFound(f"Organization with name: '{name}' not found")


def _organization_pk(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFound(f"Organization with id: '{text}' not found")
    return int(text)


async def find_organization(
    db: Executor, organization_id: str, lock: store.Lock = ""
) -> Organization:
    row = await store.organization_by_id(db, _organization_pk(organization_id), lock)
    if row is None:
        raise NotFound(f"Organization with id: '{organization_id}' not found")
    return row


class OrganizationService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, principal: Principal, body: Any) -> dict[str, Any]:
        request = wire.require_object(body, "CreateOrganizationRequest")
        name = validate_organization_name(request.get("organizationName"))
        async with self._pool.acquire() as conn, conn.transaction():
            try:
                row = await store.insert_organization(conn, name, principal.id)
            except asyncpg.UniqueViolationError as exc:
                raise BadRequest(f"An Organization with the name: '{name}' already exists") from exc
            await store.insert_acl_entry(conn, row.id, principal.id, CREATOR_ACCESS)
        return wire.organization_json(row)

    async def get_by_name(self, name: str | None) -> dict[str, Any]:
        if not name or not name.strip():
            raise BadRequest("The query parameter 'name' is required")
        wire.require_storable(name, "name")
        row = await store.organization_by_name(self._pool, name.strip())
        if row is None:
            raise organization_not_found(name.strip())
        return wire.organization_json(row)

    async def list(self, body: Any) -> dict[str, Any]:
        page = wire.page_request(wire.require_object(body, "ListOrganizationsRequest"))
        rows = await store.list_organizations(self._pool, page.after_id, page.limit + 1)
        return wire.page_response(rows, page, wire.organization_json)

    async def delete(self, principal: Principal, organization_id: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # The row lock makes a concurrent schema creation (which share-locks the
            # organization) either finish first, and be counted, or find no organization.
            row = await find_organization(conn, organization_id, "FOR UPDATE")
            await require_access(conn, row, principal.id, Access.DELETE)
            held = await store.count_schemas(conn, row.id)
            if held:
                raise BadRequest(
                    f"Organization '{row.name}' still holds {held} schema(s); "
                    "delete all of its schemas first"
                )
            await store.delete_organization(conn, row.id)

    async def get_acl(self, principal: Principal, organization_id: str) -> dict[str, Any]:
        row = await find_organization(self._pool, organization_id)
        await require_access(self._pool, row, principal.id, Access.READ)
        return wire.acl_json(row, await store.acl_entries(self._pool, row.id))

    async def put_acl(
        self, principal: Principal, organization_id: str, body: Any
    ) -> dict[str, Any]:
        update = parse_acl(body)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await find_organization(conn, organization_id, "FOR UPDATE")
            await require_access(conn, row, principal.id, Access.CHANGE_PERMISSIONS)
            if not update.grants(principal.id, Access.CHANGE_PERMISSIONS):
                raise BadRequest(
                    "You cannot remove your own CHANGE_PERMISSIONS access to the organization"
                )
            await require_known_principals(conn, update)
            if update.etag != str(row.acl_etag):
                raise PreconditionFailed(
                    f"The ACL of organization '{row.name}' changed since it was read "
                    f"(etag '{update.etag}' is not the current one); get it again and retry"
                )
            await store.replace_acl(conn, row.id, update.entries)
            row = await find_organization(conn, organization_id)
            return wire.acl_json(row, await store.acl_entries(conn, row.id))
