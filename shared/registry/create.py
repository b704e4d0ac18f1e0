"""Registering a new schema version: everything the create job checks, then one transaction.

Concurrency rests on the database. The schema row is upserted (and so locked) before its
version is inserted, so creates of one schema take turns; a semantic version is unique per
schema, so of two creates of the same one, the second fails "already exists". Every schema
read while resolving and bundling is share-locked, so a concurrent create cannot slip in a
version that closes a cycle unseen: the two lock each other and Postgres aborts one, which
runs again and sees the other. The job's result is recorded in the same transaction, fenced by
its lease, so a job run twice (its lease taken over) registers one version: the run that lost
the lease rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from shared.errors import BadRequest, ServiceUnavailable
from shared.jobs.runner import JobContext
from shared.registry import store, wire
from shared.registry.acl import Access, require_access
from shared.registry.bundle import Loader, validation_schema
from shared.registry.ids import SchemaId, parse_schema_id
from shared.registry.metaschema import check_against_metaschema, sha256_hex
from shared.registry.organizations import organization_not_found
from shared.registry.refs import ExternalRef, external_refs, require_pinned_refs
from shared.registry.resolve import ResolvedVersion, resolve

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
SEMVER_CONSTRAINT = "registry_schema_versions_semver_key"


@dataclass(frozen=True, slots=True)
class CreateRequest:
    schema: dict[str, Any]
    schema_id: SchemaId
    dry_run: bool
    refs: list[ExternalRef]


class _DryRun(Exception):
    """Raised inside the transaction so a dry run rolls back everything it wrote."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.response = response


def parse_create_request(body: Any) -> CreateRequest:
    """Everything that can be checked without the database, in the order Synapse checks."""
    request = wire.require_object(body, "CreateSchemaRequest")
    concrete_type = request.get("concreteType")
    if concrete_type is not None and concrete_type != wire.CREATE_SCHEMA_REQUEST:
        raise BadRequest(f"concreteType must be '{wire.CREATE_SCHEMA_REQUEST}'")
    schema = request.get("schema")
    if not isinstance(schema, dict):
        raise BadRequest("'schema' is required and must be a JSON object")
    if "$id" not in schema:
        raise BadRequest("schema.$id is required")
    dry_run = request.get("dryRun")
    if dry_run is not None and not isinstance(dry_run, bool):
        raise BadRequest("dryRun must be true or false")
    schema_id = parse_schema_id(schema["$id"])
    check_against_metaschema(schema)
    refs = external_refs(schema)
    require_pinned_refs(schema_id, refs)
    return CreateRequest(schema, schema_id, bool(dry_run), refs)


def locking_loader(conn: asyncpg.Connection, lock: store.Lock) -> Loader:
    async def load(target: SchemaId, label: str) -> ResolvedVersion:
        return await resolve(conn, target, label, lock)

    return load


async def run_create_schema(job: JobContext, request: CreateRequest) -> Any:
    await job.progress(1, 2, "Schema is valid; registering it")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await _register(job, request)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
            if attempt == MAX_ATTEMPTS:
                raise ServiceUnavailable("The registry is busy; try again") from exc
            log.info("schema create runs again after a lock conflict", attempt=attempt)
    raise AssertionError("unreachable")


async def _register(job: JobContext, request: CreateRequest) -> Any:
    async with job.pool.acquire() as conn:
        try:
            async with conn.transaction():
                return await _register_in(conn, job, request)
        except _DryRun as dry_run:
            return dry_run.response


async def _register_in(conn: asyncpg.Connection, job: JobContext, request: CreateRequest) -> Any:
    sid = request.schema_id
    organization = await store.organization_by_name(conn, sid.organization, "FOR SHARE")
    if organization is None:
        raise organization_not_found(sid.organization)
    await require_access(conn, organization, job.principal_id, Access.CREATE)
    targets = [
        await resolve(conn, ref.target, f"$ref '{ref.site.ref}' at {ref.site.where}", "FOR SHARE")
        for ref in request.refs
    ]
    schema = await store.upsert_schema(conn, organization.id, sid.name, job.principal_id)
    relative = str(SchemaId(organization.name, schema.name, sid.semantic_version))
    if sid.semantic_version and await store.version_of(conn, schema.id, sid.semantic_version):
        raise _already_exists(relative)
    body = {**request.schema, "$id": relative}
    try:
        version_id = await store.insert_version(
            conn, schema.id, sid.semantic_version, body, sha256_hex(body),
            job.principal_id, job.token,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != SEMVER_CONSTRAINT:
            raise
        raise _already_exists(relative) from exc
    pins = [(t.schema_pk, t.version_id if t.pinned else None) for t in targets]
    await store.insert_dependencies(conn, version_id, pins)
    root = ResolvedVersion(schema.id, organization.id, version_id, True, body)
    absolute = wire.absolute_id(job.settings.public_url, relative)
    bundled = await validation_schema(relative, root, locking_loader(conn, "FOR SHARE"), absolute)
    response = {
        "concreteType": wire.CREATE_SCHEMA_RESPONSE,
        "newVersionInfo": wire.version_info_json(await store.version_info(conn, version_id)),
        "validationSchema": bundled,
    }
    if request.dry_run:
        raise _DryRun(response)
    await job.complete_in(conn, response)
    return response


def _already_exists(relative: str) -> BadRequest:
    return BadRequest(
        f"Schema $id: '{relative}' already exists: a version with a semantic version is "
        "immutable; register a new semantic version instead"
    )
