"""The set-based writes themselves, on real connections."""

from __future__ import annotations

import asyncio

from shared.er import store
from shared.er.items import EntityRow
from shared.services import Services
from tests.conftest import TokenFactory
from tests.er_helpers import ALL_SCOPES, create_schema_collection


async def test_concurrent_upserts_of_the_same_rows_in_opposite_orders_do_not_deadlock(
    services: Services, make_token: TokenFactory
) -> None:
    await make_token("alice", *ALL_SCOPES)
    await create_schema_collection(services.pool, "Brick_0_4")
    alice = await services.pool.fetchval("SELECT id FROM principals WHERE name = 'alice'")
    await services.pool.execute(
        "INSERT INTO er_collections (id, id_key, schema_collection_id, created_by)"
        " VALUES ('c', 'c', 'Brick_0_4', $1)",
        alice,
    )
    derived = {"brickEntityType": "BRICK_0_4__Equipment"}
    rows = [
        EntityRow(f"e{i:05}", "BRICK_0_4__AHU", derived, {"id": f"e{i:05}"}) for i in range(5000)
    ]

    async def write(transaction: str, ordered: list[EntityRow]) -> set[str]:
        async with services.pool.acquire() as conn, conn.transaction():
            return await store.upsert_entities(conn, "c", transaction, ordered)

    for _ in range(3):
        written = await asyncio.gather(write("T1", rows), write("T2", rows[::-1]))
        assert [len(ids) for ids in written] == [5000, 5000]
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 5000
