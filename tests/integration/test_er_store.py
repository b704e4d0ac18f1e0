"""The set-based writes themselves, on real connections."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.er.batch_kinds import ENTITIES, BatchRequest
from shared.er.chunks import writer_for
from shared.er.items import EntityRow
from shared.er.store import upserts as upserts_store
from shared.er.store import writes as writes_store
from shared.services import Services
from shared.statuslog import store as statuslog
from tests.conftest import TokenFactory
from tests.er_helpers import ALL_SCOPES, create_schema_collection, entity


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
            return await upserts_store.upsert_entities(conn, "c", transaction, ordered)

    for _ in range(3):
        written = await asyncio.gather(write("T1", rows), write("T2", rows[::-1]))
        assert [len(ids) for ids in written] == [5000, 5000]
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 5000


async def test_an_item_the_upsert_guard_skips_has_its_log_corrected_before_commit(
    services: Services, make_token: TokenFactory
) -> None:
    """Logs are recorded before the rows (the upsert comes last in a chunk's transaction); an
    item whose stored row turns out to have another type fails, with one final history entry."""
    await make_token("alice", *ALL_SCOPES)
    namespace = await create_schema_collection(services.pool, "Brick_0_4")
    alice = await services.pool.fetchval("SELECT id FROM principals WHERE name = 'alice'")
    await services.pool.execute(
        "INSERT INTO er_collections (id, id_key, schema_collection_id, created_by)"
        " VALUES ('c', 'c', 'Brick_0_4', $1)",
        alice,
    )
    request = BatchRequest("T1", "corr", "entity", 2, "c", "Brick_0_4", {"c": ["c", "Brick_0_4"]})
    items = [entity(namespace, "kept", "AHU"), entity(namespace, "taken", "AHU")]
    await writes_store.stage_batch(
        services.pool, "T1", "c", "entity", writes_store.encode_chunks(items), "job", "corr"
    )
    write = writer_for(request, ENTITIES)
    async with services.pool.acquire() as conn, conn.transaction():

        async def record(conn: asyncpg.Connection, outcomes: list[statuslog.ItemOutcome]) -> None:
            await statuslog.record_outcomes(conn, "T1", "entity", outcomes, 0)
            # As if another batch had created 'taken' as a Fan between the look-up and now.
            await conn.execute(
                "INSERT INTO er_entities (collection_id, id, entity_type, derived, body,"
                " transaction_id) VALUES ('c', 'taken', $1, '{}', '{}', 'T0')",
                f"{namespace}__Fan",
            )

        outcomes = await write(conn, items, record)
    assert [(o.item_id, o.state.value) for o in outcomes] == [
        ("kept", "Completed"),
        ("taken", "Failed"),
    ]
    logs = await services.pool.fetch(
        "SELECT item_id, state, message, state_history FROM status_logs ORDER BY item_id"
    )
    assert [(log["item_id"], log["state"]) for log in logs] == [
        ("kept", "Completed"),
        ("taken", "Failed"),
    ]
    assert "send the item again" in logs[1]["message"]
    for log in logs:
        states = [entry["state"] for entry in log["state_history"]]
        assert states == ["Requested", "Processing", log["state"]]
    stored = await services.pool.fetchval("SELECT entity_type FROM er_entities WHERE id = 'taken'")
    assert stored == f"{namespace}__Fan"


async def test_waiting_for_a_chunk_in_flight_leaves_the_unclaimed_ones_claimable(
    services: Services,
) -> None:
    """The parent waits for chunks other workers hold; while it waits, a chunk nobody claimed
    yet must stay claimable (the old wait locked it, and the batch stalled)."""
    chunks = [(1, '[{"id": "a"}]'), (1, '[{"id": "b"}]'), (1, '[{"id": "c"}]')]
    await writes_store.stage_batch(services.pool, "T1", "c", "entity", chunks, "job", "corr")
    await services.pool.execute(
        "UPDATE er_batch_chunks SET claimed_at = now(), attempts = 1 WHERE chunk_no = 2"
    )
    async with services.pool.acquire() as worker, worker.transaction():
        assert await writes_store.lock_chunk(worker, "T1", 2) is not None  # in flight
        waiting = asyncio.create_task(writes_store.await_chunks(services.pool, "T1"))
        await asyncio.sleep(0.3)  # the old wait held chunks 0 and 1 here, waiting for 2
        claimed = await asyncio.wait_for(writes_store.claim_chunk(services.pool, "T1", 60), 5)
        assert claimed == (0, 1)
        await writes_store.finish_chunk(worker, "T1", 2)
    assert await asyncio.wait_for(waiting, 5) in (2, 3)  # what was left when it looked


async def add_collection(services: Services, collection_id: str) -> None:
    await services.pool.execute(
        "INSERT INTO principals (name) VALUES ('owner') ON CONFLICT DO NOTHING"
    )
    await services.pool.execute(
        "INSERT INTO er_collections (id, id_key, schema_collection_id, created_by)"
        " SELECT $1, lower($1), 'S', id FROM principals WHERE name = 'owner'",
        collection_id,
    )


async def test_items_come_and_go_with_their_collection_without_a_foreign_key(
    services: Services,
) -> None:
    """Migration 026 keeps per statement what the foreign key did per row: an upsert into a
    collection that is gone writes nothing, and a collection's delete takes its items along,
    with no change-feed events for them."""
    rows = [EntityRow(f"e{i}", "T", {}, {"id": f"e{i}"}) for i in range(3)]
    assert await upserts_store.upsert_entities(services.pool, "nowhere", "T0", rows) == set()
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 0

    await add_collection(services, "gone")
    await add_collection(services, "kept")
    for collection in ("gone", "kept"):
        written = await upserts_store.upsert_entities(services.pool, collection, "T1", rows)
        assert written == {"e0", "e1", "e2"}
    await services.pool.execute("DELETE FROM er_collections WHERE id = 'gone'")
    left = await services.pool.fetch("SELECT DISTINCT collection_id FROM er_entities")
    assert [row["collection_id"] for row in left] == ["kept"]
    deleted_events = "SELECT count(*) FROM er_changefeed_blocks WHERE notification_type = 'Deleted'"
    assert await services.pool.fetchval(deleted_events) == 0


async def test_a_collection_delete_waits_for_an_upsert_in_flight_and_takes_its_items(
    services: Services,
) -> None:
    await add_collection(services, "c")
    rows = [EntityRow("late", "T", {}, {"id": "late"})]
    async with services.pool.acquire() as writer:
        transaction = writer.transaction()
        await transaction.start()
        assert await upserts_store.upsert_entities(writer, "c", "T1", rows) == {"late"}
        deleting = asyncio.ensure_future(
            services.pool.execute("DELETE FROM er_collections WHERE id = 'c'")
        )
        await asyncio.sleep(0.3)
        assert not deleting.done()  # held by the upsert's lock on the collection row
        await transaction.commit()
        await asyncio.wait_for(deleting, 10)
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 0
