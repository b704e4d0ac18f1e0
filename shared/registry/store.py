"""SQL for the registry tables, in one place, with thin typed functions over it.

Names are matched case-insensitively (``lower(...)``), as they are unique that way.
``lock`` arguments add a row lock for callers inside a transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import asyncpg

from shared.db import Executor, fetch_as, fetchrow_as
from shared.registry.rows import (
    AclEntry,
    Organization,
    RegisteredSchema,
    Schema,
    Version,
    VersionInfo,
)

Lock = Literal["", "FOR SHARE", "FOR UPDATE"]

# Synapse's group principals: every authenticated caller belongs to both.
AUTHENTICATED_USERS_GROUP = 273948
PUBLIC_GROUP = 273949

ORGANIZATION_COLUMNS = "id, name, created_by, created_at, acl_etag, acl_changed_at"
INSERT_ORGANIZATION = f"""
INSERT INTO registry_organizations (name, created_by) VALUES ($1, $2)
RETURNING {ORGANIZATION_COLUMNS}
"""
ORGANIZATION_BY_NAME = (
    f"SELECT {ORGANIZATION_COLUMNS} FROM registry_organizations WHERE lower(name) = lower($1)"
)
ORGANIZATION_BY_ID = f"SELECT {ORGANIZATION_COLUMNS} FROM registry_organizations WHERE id = $1"
LIST_ORGANIZATIONS = f"""
SELECT {ORGANIZATION_COLUMNS} FROM registry_organizations WHERE id > $1 ORDER BY id LIMIT $2
"""
COUNT_SCHEMAS = "SELECT count(*) FROM registry_schemas WHERE organization_id = $1"
DELETE_ORGANIZATION = "DELETE FROM registry_organizations WHERE id = $1"

HAS_ACCESS = """
SELECT EXISTS (
    SELECT 1 FROM registry_acl_entries
    WHERE organization_id = $1 AND principal_id = ANY($2::bigint[]) AND $3 = ANY(access_types)
)
"""
ACL_ENTRIES = """
SELECT principal_id, access_types FROM registry_acl_entries
WHERE organization_id = $1 ORDER BY principal_id
"""
INSERT_ACL_ENTRY = """
INSERT INTO registry_acl_entries (organization_id, principal_id, access_types)
VALUES ($1, $2, $3)
"""
CLEAR_ACL = "DELETE FROM registry_acl_entries WHERE organization_id = $1"
TOUCH_ACL = """
UPDATE registry_organizations SET acl_etag = gen_random_uuid(), acl_changed_at = now()
WHERE id = $1
"""
KNOWN_PRINCIPALS = "SELECT id FROM principals WHERE id = ANY($1::bigint[])"

SCHEMA_COLUMNS = """
s.id, s.name, s.created_by, s.created_at, o.id AS organization_id, o.name AS organization_name
"""
SCHEMA_BY_NAME = f"""
SELECT {SCHEMA_COLUMNS}
FROM registry_schemas s JOIN registry_organizations o ON o.id = s.organization_id
WHERE lower(o.name) = lower($1) AND lower(s.name) = lower($2)
"""
UPSERT_SCHEMA = """
INSERT INTO registry_schemas (organization_id, name, created_by) VALUES ($1, $2, $3)
ON CONFLICT (organization_id, lower(name)) DO UPDATE SET name = registry_schemas.name
RETURNING id, name
"""
LIST_SCHEMAS = f"""
SELECT {SCHEMA_COLUMNS}
FROM registry_schemas s JOIN registry_organizations o ON o.id = s.organization_id
WHERE o.id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3
"""
DELETE_SCHEMA = "DELETE FROM registry_schemas WHERE id = $1"
COUNT_VERSIONS = "SELECT count(*) FROM registry_schema_versions WHERE schema_id = $1"

LATEST_VERSION = """
SELECT id, semantic_version, body FROM registry_schema_versions
WHERE schema_id = $1 ORDER BY id DESC LIMIT 1
"""
VERSION_BY_SEMVER = """
SELECT id, semantic_version, body FROM registry_schema_versions
WHERE schema_id = $1 AND semantic_version = $2
"""
INSERT_VERSION = """
INSERT INTO registry_schema_versions
    (schema_id, semantic_version, body, sha256_hex, created_by, job_token)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
"""
INSERT_DEPENDENCY = """
INSERT INTO registry_dependencies (version_id, depends_on_schema_id, depends_on_version_id)
VALUES ($1, $2, $3)
"""
DELETE_VERSION = "DELETE FROM registry_schema_versions WHERE id = $1"

VERSION_INFO_SELECT = """
SELECT o.id AS organization_id, o.name AS organization_name, s.id AS schema_id,
       s.name AS schema_name, v.id AS version_id, v.semantic_version, v.sha256_hex,
       v.created_at, v.created_by
FROM registry_schema_versions v
JOIN registry_schemas s ON s.id = v.schema_id
JOIN registry_organizations o ON o.id = s.organization_id
"""
VERSION_INFO = VERSION_INFO_SELECT + "WHERE v.id = $1"
LIST_VERSIONS = VERSION_INFO_SELECT + "WHERE s.id = $1 AND v.id > $2 ORDER BY v.id LIMIT $3"

# Versions (outside the schema being deleted) that reference a schema in any way.
SCHEMA_DEPENDENTS = (
    VERSION_INFO_SELECT
    + """
WHERE v.schema_id <> $1
  AND v.id IN (SELECT version_id FROM registry_dependencies WHERE depends_on_schema_id = $1)
ORDER BY v.id LIMIT 5
"""
)
# Versions that resolve a $ref to this version: pinned to it, or to the latest when it is
# the latest (deleting it would silently re-point them).
VERSION_DEPENDENTS = (
    VERSION_INFO_SELECT
    + """
WHERE v.id <> $1 AND v.id IN (
    SELECT version_id FROM registry_dependencies
    WHERE depends_on_version_id = $1
       OR ($3 AND depends_on_schema_id = $2 AND depends_on_version_id IS NULL)
)
ORDER BY v.id LIMIT 5
"""
)


def _locked(sql: str, lock: Lock, table: str = "") -> str:
    if not lock:
        return sql
    return f"{sql.rstrip()} {lock}{f' OF {table}' if table else ''}"


async def organization_by_name(db: Executor, name: str, lock: Lock = "") -> Organization | None:
    return await fetchrow_as(db, Organization, _locked(ORGANIZATION_BY_NAME, lock), name)


async def organization_by_id(db: Executor, org_id: int, lock: Lock = "") -> Organization | None:
    return await fetchrow_as(db, Organization, _locked(ORGANIZATION_BY_ID, lock), org_id)


async def insert_organization(db: Executor, name: str, created_by: int) -> Organization:
    """The new organization; a name taken in any case raises UniqueViolationError."""
    row = await fetchrow_as(db, Organization, INSERT_ORGANIZATION, name, created_by)
    assert row is not None  # INSERT ... RETURNING answers a row or raises
    return row


async def list_organizations(db: Executor, after_id: int, limit: int) -> list[Organization]:
    return await fetch_as(db, Organization, LIST_ORGANIZATIONS, after_id, limit)


async def count_schemas(db: Executor, org_id: int) -> int:
    held: int = await db.fetchval(COUNT_SCHEMAS, org_id)
    return held


async def delete_organization(db: Executor, org_id: int) -> None:
    await db.execute(DELETE_ORGANIZATION, org_id)


async def has_access(db: Executor, org_id: int, principal_id: int, access_type: str) -> bool:
    principals = [principal_id, AUTHENTICATED_USERS_GROUP, PUBLIC_GROUP]
    return bool(await db.fetchval(HAS_ACCESS, org_id, principals, access_type))


async def acl_entries(db: Executor, org_id: int) -> list[AclEntry]:
    return await fetch_as(db, AclEntry, ACL_ENTRIES, org_id)


async def insert_acl_entry(
    db: Executor, org_id: int, principal_id: int, access_types: list[str]
) -> None:
    await db.execute(INSERT_ACL_ENTRY, org_id, principal_id, access_types)


async def replace_acl(
    conn: asyncpg.Connection, org_id: int, entries: Sequence[tuple[int, list[str]]]
) -> None:
    await conn.execute(CLEAR_ACL, org_id)
    await conn.executemany(INSERT_ACL_ENTRY, [(org_id, p, types) for p, types in entries])
    await conn.execute(TOUCH_ACL, org_id)


async def known_principals(db: Executor, ids: Sequence[int]) -> set[int]:
    return {row["id"] for row in await db.fetch(KNOWN_PRINCIPALS, list(ids))}


async def schema_by_name(
    db: Executor, organization: str, name: str, lock: Lock = ""
) -> Schema | None:
    return await fetchrow_as(db, Schema, _locked(SCHEMA_BY_NAME, lock, "s"), organization, name)


async def upsert_schema(db: Executor, org_id: int, name: str, created_by: int) -> RegisteredSchema:
    """The schema as first registered; the row stays locked."""
    row = await fetchrow_as(db, RegisteredSchema, UPSERT_SCHEMA, org_id, name, created_by)
    assert row is not None  # the upsert answers a row whether it inserted or not
    return row


async def list_schemas(db: Executor, org_id: int, after_id: int, limit: int) -> list[Schema]:
    return await fetch_as(db, Schema, LIST_SCHEMAS, org_id, after_id, limit)


async def delete_schema(db: Executor, schema_pk: int) -> None:
    await db.execute(DELETE_SCHEMA, schema_pk)


async def count_versions(db: Executor, schema_pk: int) -> int:
    count: int = await db.fetchval(COUNT_VERSIONS, schema_pk)
    return count


async def version_of(db: Executor, schema_pk: int, semantic_version: str | None) -> Version | None:
    if semantic_version is None:
        return await fetchrow_as(db, Version, LATEST_VERSION, schema_pk)
    return await fetchrow_as(db, Version, VERSION_BY_SEMVER, schema_pk, semantic_version)


async def version_info(db: Executor, version_id: int) -> VersionInfo:
    row = await fetchrow_as(db, VersionInfo, VERSION_INFO, version_id)
    assert row is not None  # callers name a version they hold
    return row


async def list_versions(
    db: Executor, schema_pk: int, after_id: int, limit: int
) -> list[VersionInfo]:
    return await fetch_as(db, VersionInfo, LIST_VERSIONS, schema_pk, after_id, limit)


async def schema_dependents(db: Executor, schema_pk: int) -> list[VersionInfo]:
    return await fetch_as(db, VersionInfo, SCHEMA_DEPENDENTS, schema_pk)


async def version_dependents(
    db: Executor, version_id: int, schema_pk: int, is_latest: bool
) -> list[VersionInfo]:
    return await fetch_as(db, VersionInfo, VERSION_DEPENDENTS, version_id, schema_pk, is_latest)


async def delete_version(db: Executor, version_id: int) -> None:
    await db.execute(DELETE_VERSION, version_id)


async def insert_version(
    conn: asyncpg.Connection,
    schema_pk: int,
    semantic_version: str | None,
    body: dict[str, Any],
    sha256_hex: str,
    created_by: int,
    job_token: str | None,
) -> int:
    version_id: int = await conn.fetchval(
        INSERT_VERSION, schema_pk, semantic_version, body, sha256_hex, created_by, job_token
    )
    return version_id


async def insert_dependencies(
    conn: asyncpg.Connection, version_id: int, targets: Sequence[tuple[int, int | None]]
) -> None:
    unique = sorted(set(targets), key=lambda t: (t[0], t[1] or 0))
    await conn.executemany(INSERT_DEPENDENCY, [(version_id, s, v) for s, v in unique])
