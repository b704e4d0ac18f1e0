"""Numbered SQL migrations (``NNN_name.sql`` beside this file), applied once each, in order.

A migrations table records what is applied, with a checksum of each file: a migration edited
after it was applied stops start-up with a message naming it, instead of leaving databases that
applied the old text and the new one silently different. An advisory lock per schema lets several
processes start at once without applying anything twice.

``schema.sql`` beside the migrations is what they add up to (``live.py`` renders it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent
_FILE_PATTERN = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
# Databases migrated before checksums were kept gain the column; their rows are filled in from
# today's files the next time they start (trusted once, checked from then on).
ADD_CHECKSUM = "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text"
APPLIED_VERSIONS = "SELECT version FROM schema_migrations"
APPLIED_CHECKSUMS = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
RECORD_VERSION = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"
FILL_CHECKSUM = "UPDATE schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL"


class MigrationEdited(SystemExit):
    """An applied migration's file no longer holds what was applied. Exits the process with
    its message (no traceback): nothing can be served safely until someone looks."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def file_name(self) -> str:
        return f"{self.version:03d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.iterdir()):
        match = _FILE_PATTERN.match(path.name)
        if match:
            found.append(Migration(int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration numbers in {MIGRATIONS_DIR}")
    return found


async def check_applied(conn: asyncpg.Connection, migrations: list[Migration]) -> None:
    """Refuse to go on when an applied migration's file was edited since it was applied."""
    by_version = {m.version: m for m in migrations}
    for row in await conn.fetch(APPLIED_CHECKSUMS):
        migration = by_version.get(row["version"])
        if migration is None:
            continue  # applied by a newer release than this one: its file is not here
        if row["checksum"] is None:
            await conn.execute(FILL_CHECKSUM, migration.version, migration.checksum)
        elif row["checksum"] != migration.checksum:
            raise MigrationEdited(
                f"migration {migration.file_name} was edited after it was applied to this "
                f"database (applied checksum {row['checksum'][:12]}, file {migration.checksum[:12]}). "
                "Restore the file as it was and add the change as a new migration."
            )


async def apply_migrations(
    conn: asyncpg.Connection, schema: str, migrations: list[Migration] | None = None
) -> list[str]:
    """Bring ``schema`` up to date; returns the names of the migrations it applied.
    ``migrations`` defaults to the files beside this module."""
    migrations = available_migrations() if migrations is None else migrations
    lock_key = f"brickyard-migrations:{schema}"
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock_key)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(CREATE_TABLE)
        await conn.execute(ADD_CHECKSUM)
        await check_applied(conn, migrations)
        applied = {row["version"] for row in await conn.fetch(APPLIED_VERSIONS)}
        newly_applied = []
        for migration in migrations:
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    RECORD_VERSION, migration.version, migration.name, migration.checksum
                )
            newly_applied.append(f"{migration.version:03d}_{migration.name}")
            log.info("migration applied", migration=newly_applied[-1], schema=schema)
        return newly_applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock_key)


async def pending_migrations(conn: asyncpg.Connection) -> list[int]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = {r["version"] for r in await conn.fetch(APPLIED_VERSIONS)} if exists else set()
    return [m.version for m in available_migrations() if m.version not in applied]
