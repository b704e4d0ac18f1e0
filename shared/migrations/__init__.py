"""Numbered SQL migrations (``NNN_name.sql`` beside this file), applied once each, in order.

A migrations table records what is applied; an advisory lock per schema lets several processes
start at once without applying anything twice.
"""

from __future__ import annotations

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
APPLIED_VERSIONS = "SELECT version FROM schema_migrations"
RECORD_VERSION = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


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


async def apply_migrations(conn: asyncpg.Connection, schema: str) -> list[str]:
    """Bring ``schema`` up to date; returns the names of the migrations it applied."""
    lock_key = f"brickyard-migrations:{schema}"
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", lock_key)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET search_path TO "{schema}"')
        await conn.execute(CREATE_TABLE)
        applied = {row["version"] for row in await conn.fetch(APPLIED_VERSIONS)}
        newly_applied = []
        for migration in available_migrations():
            if migration.version in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(RECORD_VERSION, migration.version, migration.name)
            newly_applied.append(f"{migration.version:03d}_{migration.name}")
            log.info("migration applied", migration=newly_applied[-1], schema=schema)
        return newly_applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock_key)


async def pending_migrations(conn: asyncpg.Connection) -> list[int]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = {r["version"] for r in await conn.fetch(APPLIED_VERSIONS)} if exists else set()
    return [m.version for m in available_migrations() if m.version not in applied]
