"""Type schemas one at a time: the bulk write (createSchema), reads, delete, and publish."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from shared.releases.catalog import ReleaseCatalog
from shared.schemas.acl import Role, require_role
from shared.schemas.collections import SchemaCollections
from shared.schemas.render import SYS_KEYS, check_posted, posted_type_id
from shared.schemas.rows import TypeSchemaRow
from shared.schemas.store import collections as collections_store
from shared.schemas.store import typeschemas as typeschemas_store
from shared.schemas.sysdata import Caller, sys_timestamp
from shared.schemas.version_plan import TypeSchemaWrites
from shared.schemas.versions import write_versions

MAX_BULK = 1000
LABELS = {
    "entitytypes": "entity type",
    "relationshiptypes": "relationship type",
    "messagetypes": "message type",
    "eventtypes": "event type",
}


def version_number(version: str) -> int:
    if not (version.isascii() and version.isdigit()) or not 1 <= int(version) < 2**31:
        raise BadRequest("A schema version is a whole number from 1")
    return int(version)


def posted_schemas(schema_type: str, body: Any) -> list[tuple[str, dict[str, Any]]]:
    """(type id, schema) of each posted schema; a body the doc's mandatory fields are missing
    from (not a list of schemas, a schema naming no type id) is a 400 before anything is read."""
    schemas = [body] if isinstance(body, dict) else body
    if not isinstance(schemas, list) or not schemas:
        raise BadRequest("The request body must be a schema or a non-empty JSON array of schemas")
    if len(schemas) > MAX_BULK:
        raise PayloadTooLarge(f"At most {MAX_BULK} schemas per request")
    named = []
    for index, schema in enumerate(schemas):
        type_id = posted_type_id(schema_type, schema)
        if type_id is None:
            raise BadRequest(
                f"Schema [{index}] must be a JSON object naming its type id in "
                f"'{SYS_KEYS[schema_type]}' (or 'title')"
            )
        named.append((type_id, schema))
    return named


@dataclass(slots=True)
class TypeSchemas:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    @property
    def collections(self) -> SchemaCollections:
        return SchemaCollections(self.pool, self.catalog)

    async def bulk_upsert(
        self, collection_id: str | None, schema_type: str, body: Any, caller: Caller
    ) -> TypeSchemaWrites:
        if not collection_id:
            raise BadRequest("The 'schemaCollectionId' header is required")
        named = posted_schemas(schema_type, body)
        collection = await self.collections.writable(
            collection_id, caller.principal_id, Role.editor
        )
        rendered = [check_posted(collection.namespace, schema_type, *each) for each in named]
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await collections_store.lock(conn, collection.id)
                return await write_versions(
                    conn,
                    collection.id,
                    schema_type,
                    rendered,
                    principal_id=caller.principal_id,
                    correlation_id=caller.correlation_id,
                )
        except asyncpg.UniqueViolationError as exc:
            # Another collection took one of these (global) type ids at the same moment.
            raise Conflict(
                "A type id was created concurrently elsewhere; nothing was written, retry"
            ) from exc

    async def get(
        self, schema_type: str, type_id: str, version: str | None = None
    ) -> TypeSchemaRow:
        """The current active version, or the named version (any state)."""
        number = None if version is None else version_number(version)
        row = await typeschemas_store.get(self.pool, type_id, schema_type, number)
        if row is None or (number is None and not row.active):
            what = f"version {version} of " if version else "active "
            raise NotFound(f"No {what}{LABELS[schema_type]} '{type_id}'")
        return row

    async def delete(self, schema_type: str, type_id: str, caller: Caller) -> str:
        """Mark every version of an active type inactive (the history stays readable)."""
        row = await self.get(schema_type, type_id)
        await require_role(self.pool, row.collection_id, caller.principal_id, Role.editor)
        async with self.pool.acquire() as conn, conn.transaction():
            await collections_store.lock(conn, row.collection_id)
            await typeschemas_store.set_active(conn, [type_id], False)
            await collections_store.touch(conn, row.collection_id)
        return f"{schema_type[:-5]}Type [{type_id}] successfully deleted"  # the doc's message

    async def publish(self, schema_type: str, type_id: str, caller: Caller) -> dict[str, Any]:
        """Move the current version from new to published (already published: unchanged)."""
        row = await self.get(schema_type, type_id)
        await require_role(self.pool, row.collection_id, caller.principal_id, Role.editor)
        changed_at = await typeschemas_store.publish(self.pool, type_id)
        moment = changed_at or row.state_changed_at or row.created_at
        return {
            "sysTimestamp": sys_timestamp(moment),
            "sysSchemaVersion": row.version,
            "sysCorrelationId": caller.correlation_id,
            "sysClientId": caller.name,
            "sysRequestorId": caller.name,
            "sysState": "published",
            SYS_KEYS[schema_type]: type_id,
        }
