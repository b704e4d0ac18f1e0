"""Migrations 009 and 012 on rows written before them: generated columns filled, versions kept
from then on, relationships' derived fields rewritten in place (key order kept, no version)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.migrations import available_migrations
from shared.settings import Settings

OLD_RELATIONSHIP = (
    '{"id":"r","zeta":1,"brickRelationshipType":"B__feeds_Equipment_Equipment",'
    '"brickSourceEntityType":"B__AHU","alpha":2}'
)


@pytest.fixture
async def before_012(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A schema of its own with every migration before 012 applied, by hand."""
    conn = await asyncpg.connect(settings.database_url)
    schema = settings.database_schema + "_m"
    await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}"')
    try:
        for migration in available_migrations():
            if migration.version < 12:
                await conn.execute(migration.sql)
        yield conn
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def test_012_rewrites_relationship_derived_fields_in_place(
    before_012: asyncpg.Connection,
) -> None:
    conn = before_012
    await conn.execute("""
        INSERT INTO principals (name) VALUES ('a');
        INSERT INTO schema_collections (id, id_key, namespace, created_by)
        VALUES ('B', 'b', 'B', 3350000);
        INSERT INTO type_schemas
            (type_id, version, collection_id, schema_type, schema, content_sha256, metadata,
             is_current)
        VALUES ('B__feeds_Equipment_Equipment', 1, 'B', 'relationshiptypes', '{}', 'x',
                '{"relation": "feeds"}', true);
        INSERT INTO er_collections VALUES ('c', 'c', 'B', 3350000);
        INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
        VALUES ('c', 'a', 'B__AHU',
                '{"brickEntityType": "B__Equipment", "brickEntitySubType": "B__AHU"}',
                '{"id": "a", "geoLocation": {"type": "Point", "coordinates": [1, 2]}}', 't'),
               ('c', 'f', 'B__Fan',
                '{"brickEntityType": "B__Equipment", "brickEntitySubType": "B__Fan"}', '{}', 't');
    """)
    await conn.execute(
        """
        INSERT INTO er_relationships (collection_id, id, relationship_type, source_entity_id,
            destination_collection_id, destination_entity_id, derived, body, transaction_id)
        VALUES ('c', 'r', 'B__feeds_Equipment_Equipment', 'a', 'c', 'f',
                '{"brickRelationshipType": "B__feeds_Equipment_Equipment"}', $1, 't')
        """,
        OLD_RELATIONSHIP,
    )
    [migration] = [m for m in available_migrations() if m.version == 12]
    await conn.execute(migration.sql)
    row = await conn.fetchrow("SELECT version, derived, body FROM er_relationships")
    assert row["version"] == 1
    assert await conn.fetchval("SELECT count(*) FROM er_relationship_versions") == 0
    assert row["body"].startswith('{ "id" : "r", "zeta" : 1, "brickRelationshipType" : "B__feeds"')
    expected = {
        "brickRelationshipType": "B__feeds",
        "brickRelationshipName": "feeds",
        "brickSourceEntityType": "B__Equipment",
        "brickSourceEntitySubType": "B__AHU",
        "brickDestinationEntityType": "B__Equipment",
        "brickDestinationEntitySubType": "B__Fan",
    }
    assert json.loads(row["derived"]) == expected
    # 009's generated columns and version triggers are in place for the next upsert.
    assert await conn.fetchval("SELECT geo_location::text FROM er_entities WHERE id = 'a'") == (
        "(1,2)"
    )
    await conn.execute("UPDATE er_relationships SET body = '{}'")
    assert await conn.fetchval("SELECT version FROM er_relationships") == 2
    assert await conn.fetchval("SELECT count(*) FROM er_relationship_versions") == 1


@pytest.fixture
async def before_029(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(settings.database_url)
    schema = settings.database_schema + "_m29"
    await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}"')
    try:
        for migration in available_migrations():
            if migration.version < 29:
                await conn.execute(migration.sql)
        yield conn
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def test_029_gives_old_deletes_a_tombstone_and_moves_recreated_items_past_history(
    before_029: asyncpg.Connection,
) -> None:
    conn = before_029
    await conn.execute("""
        INSERT INTO principals (name) VALUES ('a');
        INSERT INTO schema_collections (id, id_key, namespace, created_by)
        VALUES ('B', 'b', 'B', (SELECT id FROM principals));
        INSERT INTO er_collections (id, id_key, schema_collection_id, created_by)
        VALUES ('c', 'c', 'B', (SELECT id FROM principals));
        INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
        VALUES ('c', 'gone', 'B__AHU', '{}', '{"n": 1}', 't1'),
               ('c', 'back', 'B__AHU', '{}', '{"n": 1}', 't1');
        UPDATE er_entities SET body = '{"n": 2}', transaction_id = 't2';
        DELETE FROM er_entities;
        INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
        VALUES ('c', 'back', 'B__AHU', '{}', '{"n": 3}', 't3');
    """)
    [migration] = [m for m in available_migrations() if m.version == 29]
    await conn.execute(migration.sql)
    kept = await conn.fetch(
        "SELECT id, version, deleted FROM er_entity_versions ORDER BY id, version"
    )
    assert [tuple(r) for r in kept] == [("back", 1, False), ("gone", 1, False), ("gone", 2, True)]
    assert await conn.fetchval("SELECT version FROM er_entities WHERE id = 'back'") == 2
    # From now on: the next upsert keeps version 2, a re-create continues after the tombstone.
    await conn.execute("UPDATE er_entities SET body = '{\"n\": 4}' WHERE id = 'back'")
    await conn.execute("""
        INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id)
        VALUES ('c', 'gone', 'B__AHU', '{}', '{"n": 5}', 't5')
    """)
    live = await conn.fetch("SELECT id, version FROM er_entities ORDER BY id")
    assert [tuple(r) for r in live] == [("back", 3), ("gone", 3)]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM er_entity_versions WHERE id = 'back' AND version = 2"
        )
        == 1
    )
