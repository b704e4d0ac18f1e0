"""Sequence ids given after commit (migration 022): writers of one collection do not wait for
each other, and readers still see gap-free ids that never appear below one already read."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from shared.changefeed import store as feed
from shared.migrations import available_migrations
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, two_collections

UNNUMBERED = "SELECT count(*) FROM er_changefeed_blocks WHERE first_sequence IS NULL"
INSERT_ENTITY = (
    "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id) "
    "VALUES ('c1', $1, $2, '{}', '{}', $3)"
)


async def feed_ids(client: TestClient, token: str) -> list[tuple[int, str]]:
    response = await client.get(
        "/apollo/changefeed/logs?limit=100", headers={**bearer(token), "erCollectionId": "c1"}
    )
    if response.status == 404:
        return []
    body = await response.json()
    assert response.status == 200, body
    return [(event["sequenceId"], event["entityId"]) for event in body["data"]]


async def test_writers_of_one_collection_do_not_wait_and_ids_follow_commits(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    ahu = f"{ns}__AHU"
    async with services.pool.acquire() as first, services.pool.acquire() as second:
        slow = first.transaction()
        await slow.start()
        await first.execute(INSERT_ENTITY, "early-but-slow", ahu, "T1")
        # Under 013's counter-row lock this insert waited for the first transaction's commit.
        await second.execute("SET statement_timeout = '3s'")
        try:
            await second.execute(INSERT_ENTITY, "late-but-quick", ahu, "T2")
        except asyncpg.QueryCanceledError:
            raise AssertionError("a writer waited for another writer of its collection") from None
        assert await feed_ids(client, token) == [(1, "late-but-quick")]
        await slow.commit()
    # Written first, committed last: numbered after what a reader has already seen.
    assert await feed_ids(client, token) == [(1, "late-but-quick"), (2, "early-but-slow")]
    assert await feed.catch_up(services.pool) == 0


async def test_a_rolled_back_write_and_a_deleted_collection_leave_nothing_pending(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute(INSERT_ENTITY, "kept", f"{ns}__AHU", "T1")
        rolled_back = conn.transaction()
        await rolled_back.start()
        await conn.execute(INSERT_ENTITY, "ghost", f"{ns}__AHU", "T2")
        await rolled_back.rollback()
        await conn.execute(
            "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, "
            "transaction_id) VALUES ('c2', 'doomed', $1, '{}', '{}', 'T3')",
            f"{ns}__AHU",
        )
        await conn.execute("DELETE FROM er_collections WHERE id = 'c2'")
        # The rolled-back write left nothing, and c2's block went with c2.
        assert await conn.fetchval(UNNUMBERED) == 1
        assert await feed.catch_up(conn) == 1
        assert await conn.fetchval(UNNUMBERED) == 0
        counters = await conn.fetch(
            "SELECT collection_id, last_sequence FROM er_changefeed_counters"
        )
    assert [tuple(row) for row in counters] == [("c1", 1)]
    assert await feed_ids(client, token) == [(1, "kept")]


async def test_pages_and_bounds_cut_through_blocks_of_a_thousand_events(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    many = (
        "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id) "
        "SELECT 'c1', $1 || lpad(n::text, 4, '0'), $2, '{}', '{}', $1 FROM generate_series(1, $3) n"
    )
    await services.pool.execute(many, "a", f"{ns}__AHU", 1000)  # one statement: one block
    await services.pool.execute(many, "b", f"{ns}__AHU", 1000)
    response = await client.get(
        "/apollo/changefeed/logs?startSequenceId=998&endSequenceId=1003&limit=4",
        headers={**bearer(token), "erCollectionId": "c1"},
    )
    body = await response.json()
    assert [(e["sequenceId"], e["entityId"]) for e in body["data"]] == [
        (998, "a0998"), (999, "a0999"), (1000, "a1000"), (1001, "b0001"),
    ]  # fmt: skip
    assert body["paging"]["totalCount"] == 6
    events = await feed.events_after(services.pool, "c1", 1995, 100)
    assert [event.sequence_id for event in events] == [1996, 1997, 1998, 1999, 2000]
    assert len({event.notification_id for event in await feed.events_after(
        services.pool, "c1", 0, 2000)}) == 2000  # fmt: skip


async def test_022_keeps_the_events_013_numbered(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    schema = settings.database_schema + "_m"
    await conn.execute(f'CREATE SCHEMA "{schema}"; SET search_path TO "{schema}"')
    try:
        for migration in available_migrations():
            if migration.version < 22:
                await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO principals (name) VALUES ('p');"
            "INSERT INTO er_collections (id, id_key, schema_collection_id, created_by) "
            "SELECT 'c1', 'c1', 'S', id FROM principals;"
            "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, transaction_id) "
            "VALUES ('c1', 'x', 'T', '{}', '{}', 'T1'), ('c1', 'y', 'T', '{}', '{}', 'T1')"
        )
        old_ids = await conn.fetch(
            "SELECT sequence_id, notification_id FROM er_changefeed ORDER BY 1"
        )
        for migration in available_migrations():
            if migration.version >= 22:
                await conn.execute(migration.sql)
        await conn.execute(
            "INSERT INTO er_entities (collection_id, id, entity_type, derived, body, "
            "transaction_id) VALUES ('c1', 'z', 'T', '{}', '{}', 'T2')"
        )
        events = await feed.events_after(conn, "c1", 0, 10)
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
    assert [(e.sequence_id, e.item_id) for e in events] == [(1, "x"), (2, "y"), (3, "z")]
    assert [e.notification_id for e in events[:2]] == [r["notification_id"] for r in old_ids]
