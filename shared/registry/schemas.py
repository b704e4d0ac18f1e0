"""Registered schemas: get by ``$id``, delete, list, and the validation-schema job."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.auth import Principal
from shared.db import Executor
from shared.errors import BadRequest, NotFound
from shared.jobs.runner import JobContext
from shared.registry import store, wire
from shared.registry.acl import Access, require_access
from shared.registry.bundle import Loader, validation_schema
from shared.registry.ids import SchemaId, parse_schema_id, relative_id
from shared.registry.organizations import organization_not_found
from shared.registry.resolve import ResolvedVersion, resolve
from shared.registry.rows import Schema, VersionInfo


def plain_loader(db: Executor) -> Loader:
    async def load(target: SchemaId, label: str) -> ResolvedVersion:
        return await resolve(db, target, label)

    return load


def _refused(what: str, dependents: list[VersionInfo]) -> BadRequest:
    names = ", ".join(
        f"'{wire.version_relative_id(row)}'"
        + ("" if row.semantic_version else f" (versionId {row.version_id})")
        for row in dependents
    )
    return BadRequest(f"Cannot delete {what}: it is referenced by {names}")


class SchemaService:
    def __init__(self, pool: asyncpg.Pool, public_url: str) -> None:
        self._pool = pool
        self._public_url = public_url

    async def get(self, text: str) -> dict[str, Any]:
        """The schema as registered, its ``$id`` the absolute form of the one asked for."""
        sid = parse_schema_id(text)
        version = await resolve(self._pool, sid, f"$id '{relative_id(text)}'")
        return {**version.body, "$id": wire.absolute_id(self._public_url, str(sid))}

    async def delete(self, principal: Principal, text: str) -> None:
        """Delete one version (semver given) or every version; refused while referenced."""
        sid = parse_schema_id(text)
        async with self._pool.acquire() as conn, conn.transaction():
            # Creates share-lock what they reference, so this lock orders them with us.
            schema = await store.schema_by_name(conn, sid.organization, sid.name, "FOR UPDATE")
            if schema is None:
                await resolve(conn, sid, f"$id '{relative_id(text)}'")  # raises the right 404
                raise NotFound(f"$id '{relative_id(text)}' not found")
            await require_access(conn, schema.organization, principal.id, Access.DELETE)
            if sid.semantic_version is None:
                await self._delete_schema(conn, schema)
            else:
                await self._delete_version(conn, schema, sid)

    async def _delete_schema(self, conn: asyncpg.Connection, schema: Schema) -> None:
        dependents = await store.schema_dependents(conn, schema.id)
        if dependents:
            name = f"{schema.organization_name}-{schema.name}"
            raise _refused(f"every version of '{name}'", dependents)
        await store.delete_schema(conn, schema.id)

    async def _delete_version(
        self, conn: asyncpg.Connection, schema: Schema, sid: SchemaId
    ) -> None:
        version = await resolve(conn, sid, f"$id '{sid}'")
        latest = await store.version_of(conn, schema.id, None)
        assert latest is not None  # the version being deleted exists, so a latest one does
        is_latest = latest.id == version.version_id
        dependents = await store.version_dependents(conn, version.version_id, schema.id, is_latest)
        if dependents:
            raise _refused(f"'{sid}'", dependents)
        await store.delete_version(conn, version.version_id)
        if not await store.count_versions(conn, schema.id):
            await store.delete_schema(conn, schema.id)

    async def list_schemas(self, body: Any) -> dict[str, Any]:
        request = wire.require_object(body, "ListJsonSchemaInfoRequest")
        name = wire.require_string(request, "organizationName")
        page = wire.page_request(request)
        organization = await store.organization_by_name(self._pool, name)
        if organization is None:
            raise organization_not_found(name)
        rows = await store.list_schemas(self._pool, organization.id, page.after_id, page.limit + 1)
        return wire.page_response(rows, page, wire.schema_info_json)

    async def list_versions(self, body: Any) -> dict[str, Any]:
        request = wire.require_object(body, "ListJsonSchemaVersionInfoRequest")
        organization = wire.require_string(request, "organizationName")
        name = wire.require_string(request, "schemaName")
        page = wire.page_request(request)
        schema = await store.schema_by_name(self._pool, organization, name)
        if schema is None:
            if await store.organization_by_name(self._pool, organization) is None:
                raise organization_not_found(organization)
            raise NotFound(f"Schema '{organization}-{name}' not found")
        rows = await store.list_versions(self._pool, schema.id, page.after_id, page.limit + 1)
        return wire.page_response(rows, page, wire.version_info_json)


def parse_validation_request(body: Any) -> SchemaId:
    request = wire.require_object(body, "GetValidationSchemaRequest")
    concrete_type = request.get("concreteType")
    if concrete_type is not None and concrete_type != wire.VALIDATION_SCHEMA_REQUEST:
        raise BadRequest(f"concreteType must be '{wire.VALIDATION_SCHEMA_REQUEST}'")
    if "$id" not in request:
        raise BadRequest("'$id' is required")
    return parse_schema_id(request["$id"])


async def run_get_validation_schema(job: JobContext, sid: SchemaId) -> dict[str, Any]:
    async with job.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        # One snapshot: every schema bundled is as of the same moment.
        root = await resolve(conn, sid, f"$id '{sid}'")
        absolute = wire.absolute_id(job.settings.public_url, str(sid))
        bundled = await validation_schema(str(sid), root, plain_loader(conn), absolute)
    return {"concreteType": wire.VALIDATION_SCHEMA_RESPONSE, "validationSchema": bundled}
