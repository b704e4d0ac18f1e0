"""ER collections and who may use them: registration, roles, and the access list."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any
from uuid import UUID

import asyncpg

from shared.er.rows import CollectionRole
from shared.er.store import collections as collections_store
from shared.errors import BadRequest, Conflict, Forbidden, NotFound
from shared.text import iso, storable

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
NO_ACCESS = "ercollectionid '{}' is not registered or the caller has no access to it"


class Role(IntEnum):
    """A role implies every lower one."""

    readonly = 1
    readwrite = 2
    admin = 3
    owner = 4

    @classmethod
    def parse(cls, value: object) -> Role:
        if isinstance(value, str) and value in cls.__members__:
            return cls[value]
        raise BadRequest(f"Unknown role {value!r}; roles are {', '.join(cls.__members__)}")


@dataclass(frozen=True, slots=True)
class ErCollection:
    id: str
    schema_collection_id: str
    created_by: int
    created_at: datetime
    role: Role
    # Its schema collection's types generation when read (migration 025), if the read had it.
    schema_generation: UUID | None = None

    @classmethod
    def from_row(cls, row: CollectionRole) -> ErCollection:
        assert row.role is not None  # callers refuse a collection without a grant first
        return cls(
            row.id,
            row.schema_collection_id,
            row.created_by,
            row.created_at,
            Role[row.role],
            row.schema_generation,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "erCollectionId": self.id,
            "schemaCollectionId": self.schema_collection_id,
            "createdBy": self.created_by,
            "createdOn": iso(self.created_at),
            "role": self.role.name,
        }


def collection_id_from(value: object, field: str = "erCollectionId") -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise BadRequest(
            f"{field} must be 1 to 128 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit"
        )
    return value


class ErCollections:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def register(
        self, principal_id: int, collection_id: object, schema_collection_id: object
    ) -> ErCollection:
        """Bind a new ER collection to a schema collection; its creator becomes its owner."""
        new_id = collection_id_from(collection_id)
        if not isinstance(schema_collection_id, str) or not schema_collection_id:
            raise BadRequest("schemaCollectionId is required (a string)")
        storable(schema_collection_id, "schemaCollectionId")
        async with self._pool.acquire() as conn, conn.transaction():
            schema_id = await collections_store.find_schema_collection(conn, schema_collection_id)
            if schema_id is None:
                raise NotFound(f"Schema collection '{schema_collection_id}' does not exist")
            row = await collections_store.insert_collection(conn, new_id, schema_id, principal_id)
            if row is None:
                raise Conflict(f"ercollection '{new_id}' already exists")
            await collections_store.grant_owner(conn, new_id, principal_id)
        return ErCollection.from_row(row)

    async def require(self, principal_id: int, collection_id: str, minimum: Role) -> ErCollection:
        """The collection, if the principal holds at least ``minimum`` on it (else 403)."""
        found = await self.require_each(principal_id, [collection_id], minimum)
        return found[collection_id]

    async def require_each(
        self, principal_id: int, collection_ids: Iterable[str], minimum: Role
    ) -> dict[str, ErCollection]:
        """Each named collection (keyed as named), checked like :meth:`require` in one query."""
        wanted = sorted(set(collection_ids))
        # A name outside the id grammar cannot be registered (and may not even be storable).
        keys = [name.lower() for name in wanted if ID_PATTERN.match(name)]
        rows = await collections_store.with_roles(self._pool, keys, principal_id)
        by_key = {row.id_key: row for row in rows}
        found = {}
        for name in wanted:
            row = by_key.get(name.lower()) if ID_PATTERN.match(name) else None
            if row is None or row.role is None:
                raise Forbidden(NO_ACCESS.format(name))
            collection = ErCollection.from_row(row)
            if collection.role < minimum:
                raise Forbidden(
                    f"ercollectionid '{name}': the caller's role '{collection.role.name}' does "
                    f"not allow this call, which needs '{minimum.name}'"
                )
            found[name] = collection
        return found

    async def readable(self, principal_id: int, collection_ids: Iterable[str]) -> set[str]:
        """Those of the named collections the principal holds any role on."""
        wanted = {name for name in collection_ids if ID_PATTERN.match(name)}
        rows = await collections_store.with_roles(
            self._pool, sorted(name.lower() for name in wanted), principal_id
        )
        held = {row.id_key for row in rows if row.role is not None}
        return {name for name in wanted if name.lower() in held}

    async def list_for(self, principal_id: int) -> list[ErCollection]:
        rows = await collections_store.list_for_principal(self._pool, principal_id)
        return [ErCollection.from_row(row) for row in rows]
