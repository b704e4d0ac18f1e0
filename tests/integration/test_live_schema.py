"""The database's live code in one place: ``schema.sql`` is what the migrations add up to, and an
applied migration that was edited afterwards stops start-up instead of diverging silently."""

from __future__ import annotations

import dataclasses
import difflib
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.migrations import MigrationEdited, apply_migrations, available_migrations
from shared.migrations.live import SCHEMA_FILE, render
from shared.settings import Settings


@pytest.fixture
async def conn(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def scratch(conn: asyncpg.Connection) -> AsyncIterator[str]:
    schema = f"test_scratch_{secrets.token_hex(5)}"
    try:
        yield schema
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_schema_sql_is_what_the_migrations_leave(
    settings: Settings, conn: asyncpg.Connection, scratch: str
) -> None:
    migrated = await render(conn, settings.database_schema)
    await conn.execute(f'CREATE SCHEMA "{scratch}"; SET search_path TO "{scratch}"')
    await conn.execute(SCHEMA_FILE.read_text())
    await conn.execute("RESET check_function_bodies")
    from_file = await render(conn, scratch)
    difference = "\n".join(
        difflib.unified_diff(
            from_file.splitlines(), migrated.splitlines(), "schema.sql", "migrations", lineterm=""
        )
    )
    assert migrated == from_file, f"run `make schema` and commit the result:\n{difference}"


async def test_schema_sql_defines_each_function_once() -> None:
    text = SCHEMA_FILE.read_text()
    assert text.count("CREATE OR REPLACE FUNCTION er_changefeed_record()") == 1
    assert "live_" not in text  # no scratch schema's name leaks into the file


async def test_an_edited_migration_stops_start_up(conn: asyncpg.Connection, scratch: str) -> None:
    migrations = available_migrations()
    assert await apply_migrations(conn, scratch, migrations)
    edited = list(migrations)
    edited[3] = dataclasses.replace(edited[3], sql=edited[3].sql + "\n-- an afterthought\n")
    with pytest.raises(MigrationEdited) as caught:
        await apply_migrations(conn, scratch, edited)
    assert str(caught.value).startswith(
        f"migration {edited[3].file_name} was edited after it was applied to this database"
    )
    # The files as they were still start, and nothing was applied meanwhile.
    assert await apply_migrations(conn, scratch, migrations) == []


async def test_a_new_migration_is_applied_beside_checked_ones(
    conn: asyncpg.Connection, scratch: str
) -> None:
    migrations = available_migrations()
    await apply_migrations(conn, scratch, migrations[:-1])
    assert await apply_migrations(conn, scratch, migrations) == [
        f"{migrations[-1].version:03d}_{migrations[-1].name}"
    ]
    recorded = await conn.fetch(f'SELECT version, checksum FROM "{scratch}".schema_migrations')
    assert {r["version"]: r["checksum"] for r in recorded} == {
        m.version: m.checksum for m in migrations
    }


async def test_databases_from_before_checksums_are_trusted_once(
    conn: asyncpg.Connection, scratch: str
) -> None:
    migrations = available_migrations()
    await apply_migrations(conn, scratch, migrations)
    await conn.execute(f'UPDATE "{scratch}".schema_migrations SET checksum = NULL')
    assert await apply_migrations(conn, scratch, migrations) == []
    missing = await conn.fetchval(
        f'SELECT count(*) FROM "{scratch}".schema_migrations WHERE checksum IS NULL'
    )
    assert missing == 0
    edited = [dataclasses.replace(migrations[0], sql="SELECT 1"), *migrations[1:]]
    with pytest.raises(MigrationEdited):
        await apply_migrations(conn, scratch, edited)


async def test_a_migration_from_a_newer_release_is_left_alone(
    conn: asyncpg.Connection, scratch: str
) -> None:
    migrations = available_migrations()
    await apply_migrations(conn, scratch, migrations)
    assert await apply_migrations(conn, scratch, migrations[:-1]) == []
