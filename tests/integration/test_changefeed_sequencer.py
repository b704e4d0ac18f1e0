"""Sequence ids given after commit (migration 022): writers of one collection do not wait for
each other, and readers still see gap-free ids that never appear below one already read."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from shared.changefeed import store as feed
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, two_collections

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
        # The rolled-back write left nothing; c2's event waits for the pass, which drops it.
        assert await conn.fetchval("SELECT count(*) FROM er_changefeed_pending") == 2
        assert await feed.catch_up(conn) == 1
        assert await conn.fetchval("SELECT count(*) FROM er_changefeed_pending") == 0
        counters = await conn.fetch(
            "SELECT collection_id, last_sequence FROM er_changefeed_counters"
        )
    assert [tuple(row) for row in counters] == [("c1", 1)]
    assert await feed_ids(client, token) == [(1, "kept")]
