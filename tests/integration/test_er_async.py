"""Asynchronous batches: 10000 relationships through a job, and a worker killed mid-batch."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from gateway.keys import SERVICES
from shared.er.batch_kinds import ENTITIES, BatchRequest
from shared.observability.heartbeats import live_workers
from shared.services import Services
from shared.statuslog import store as statuslog
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    entity,
    post_items,
    query_string,
    relationship,
    two_collections,
)
from tests.processes import start, wait_for

HERE = "august_14_81"
SIDE = 50  # 50 AHUs feeding 50 fans: 2500 distinct pairs, reused by distinct relationships

ONE_FINAL_ENTRY_EACH = """
SELECT count(*) FILTER (WHERE state = 'Completed') AS completed,
       count(*) FILTER (WHERE (SELECT count(*) FROM jsonb_array_elements(state_history) AS h
                               WHERE h->>'state' IN ('Completed', 'Failed')) = 1) AS one_final,
       max(retry_count) AS max_retries,
       count(*) AS total
FROM status_logs WHERE transaction_id = $1
"""


async def equipment(
    client: TestClient, token: str, ns: str, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    """The AHUs and fans the relationships connect, written by an async batch and a burst worker."""
    items = [entity(ns, f"ahu-{i}", "AHU") for i in range(SIDE)]
    items += [entity(ns, f"fan-{i}", "Fan") for i in range(SIDE)]
    response = await post_items(client, token, "entities", HERE, items, is_async=True)
    assert response.status == 202
    await run_jobs()
    count = await client.app[SERVICES].pool.fetchval("SELECT count(*) FROM er_entities")
    assert count == 2 * SIDE


def feeds(ns: str, count: int) -> list[dict[str, Any]]:
    return [
        relationship(
            ns,
            f"rel-{k:05}",
            "feeds_Equipment_Equipment",
            f"ahu-{k % SIDE}",
            f"fan-{k // SIDE % SIDE}",
        )
        for k in range(count)
    ]


async def accept(client: TestClient, token: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = await post_items(client, token, "relationships", HERE, items, is_async=True)
    body = await response.json()
    assert response.status == 202, body
    assert body["status"]["code"] == "202"
    return body


async def test_10000_relationships_complete_asynchronously_with_every_log_completed(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
    background_worker: None,
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await equipment(client, token, ns, run_jobs)
    items = feeds(ns, 10_000)

    began = time.perf_counter()
    body = await accept(client, token, items)
    accepted_s = time.perf_counter() - began
    transaction, job_token = body["transactionId"], body["data"]["token"]
    assert body["data"]["tracker"] == (
        f"http://brickyard.test/apollo/status/logs?transactionid={transaction}"
    )
    statuses = []
    while True:
        response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
        if response.status == 200:
            result = await response.json()
            break
        assert response.status == 202
        statuses.append(await response.json())
        await asyncio.sleep(0.05)
    elapsed_s = time.perf_counter() - began
    print(
        f"\n10000 relationships: accepted in {accepted_s:.2f} s, done in {elapsed_s:.2f} s "
        f"({10_000 / elapsed_s:.0f} items/s)"
    )

    assert statuses and statuses[0]["jobState"] == "PROCESSING"
    assert result["responses"]["failure"] == []
    assert [s["id"] for s in result["responses"]["success"]] == [i["id"] for i in items]
    assert result["message"] == "Total number of Relationships Upserted:  10000."
    assert await services.pool.fetchval("SELECT count(*) FROM er_relationships") == 10_000
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, transaction)
    assert dict(logs) == {
        "completed": 10_000,
        "one_final": 10_000,
        "max_retries": 0,
        "total": 10_000,
    }
    job = await services.pool.fetchrow(
        "SELECT progress_total, request, items_stored, items_failed FROM jobs WHERE token = $1",
        job_token,
    )
    assert job["progress_total"] == 10_000 and "items" not in job["request"]
    assert (job["items_stored"], job["items_failed"]) == (10_000, 0)

    tracked = await client.get(
        query_string(body["data"]["tracker"]) + "&limit=1000", headers=bearer(token)
    )
    page = await tracked.json()
    assert page["paging"]["totalCount"] == 10_000
    assert {record["state"] for record in page["data"]} == {"Completed"}


async def test_status_read_before_processing_shows_requested_then_the_chunk_completes_it(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    """Requested records are written when first read (migration 024): a read between the 202
    and the job sees every item Requested, at the moment the batch was accepted; the job then
    completes those same records (same seq), one final entry each."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, f"ahu-{i}", "AHU") for i in range(1500)]  # two chunks
    response = await post_items(client, token, "entities", HERE, items, is_async=True)
    body = await response.json()
    tracker = query_string(body["data"]["tracker"]) + "&limit=1000"
    early = await (await client.get(tracker, headers=bearer(token))).json()
    assert early["paging"]["totalCount"] == 1500
    assert {record["state"] for record in early["data"]} == {"Requested"}
    first = early["data"][0]
    assert first["serviceData"]["entityId"] == "ahu-0"
    assert [entry["state"] for entry in first["stateHistory"]] == ["Requested"]
    await run_jobs()
    late = await (await client.get(tracker, headers=bearer(token))).json()
    assert [r["id"] for r in late["data"]] == [r["id"] for r in early["data"]]  # same records
    done = late["data"][0]
    assert [entry["state"] for entry in done["stateHistory"]] == [
        "Requested", "Processing", "Completed",
    ]  # fmt: skip
    assert done["stateHistory"][0] == first["stateHistory"][0]  # accepted, not first read
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, body["transactionId"])
    assert (logs["total"], logs["completed"], logs["one_final"]) == (1500, 1500, 1500)
    positions = await services.pool.fetch(
        "SELECT item_id, position FROM status_logs WHERE transaction_id = $1 ORDER BY position",
        body["transactionId"],
    )
    assert [row["item_id"] for row in positions] == [item["id"] for item in items]


async def test_more_than_10000_is_413_even_asynchronously(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    response = await post_items(
        client, token, "relationships", HERE, feeds(ns, 10_001), is_async=True
    )
    assert response.status == 413


async def print_what_waits(db: asyncpg.Pool, transaction: str) -> None:
    chunks = await db.fetch(
        "SELECT chunk_no, attempts, claimed_at, done FROM er_batch_chunks"
        " WHERE transaction_id = $1 ORDER BY chunk_no",
        transaction,
    )
    print("chunks:", [tuple(row) for row in chunks])
    sessions = await db.fetch(
        "SELECT pid, application_name, state, wait_event_type, wait_event,"
        " pg_blocking_pids(pid) AS blocked_by, left(query, 100) AS query"
        " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    for row in sessions:
        print("session:", dict(row))


async def test_a_worker_killed_mid_batch_leaves_one_row_and_one_final_log_per_item(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await equipment(client, token, ns, run_jobs)
    items = feeds(ns, 10_000)
    # An uncommitted row with the id of an item of the 6th chunk: that chunk's upsert waits for
    # it, so the worker is killed with every other chunk done and that one in flight.
    blocker = await services.pool.acquire()
    held = blocker.transaction()
    await held.start()
    # With the feed's triggers: its blocks take no lock that other chunks wait for (022).
    await blocker.execute(
        "INSERT INTO er_relationships (collection_id, id, relationship_type, source_entity_id,"
        " destination_collection_id, destination_entity_id, derived, body, transaction_id)"
        " VALUES ($1, $2, $3, 'ahu-0', $1, 'fan-0', '{}', '{}', 'held')",
        HERE, items[5500]["id"], items[5500]["relationshipType"],
    )  # fmt: skip
    # Two loops, so the other chunks go on while the held row stops one.
    worker = start(services.settings.replace(chunk_loops_per_principal=2), "worker")
    try:
        body = await accept(client, token, items)
        job_token, transaction = body["data"]["token"], body["transactionId"]

        async def all_but_one_chunk_done() -> bool:
            done = await services.pool.fetchval(
                "SELECT count(*) FROM er_batch_chunks WHERE transaction_id = $1 AND done",
                transaction,
            )
            return done == 9

        try:
            await wait_for(all_but_one_chunk_done, timeout_s=60, step_s=0.02)
        except AssertionError:
            await print_what_waits(services.pool, transaction)  # it failed twice in full runs
            raise
        await asyncio.sleep(0.2)  # the 6th chunk's upsert is waiting on the held row
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
        await held.rollback()
        await services.pool.release(blocker)
    killed = await services.pool.fetchrow(
        "SELECT state, attempts FROM jobs WHERE token = $1", job_token
    )
    assert dict(killed) == {"state": "PROCESSING", "attempts": 1}
    assert await services.pool.fetchval("SELECT count(*) FROM er_relationships") == 9000

    await asyncio.wait_for(run_jobs(), timeout=60)
    job = await services.pool.fetchrow(
        "SELECT state, attempts, result FROM jobs WHERE token = $1", job_token
    )
    assert (job["state"], job["attempts"]) == ("COMPLETE", 2)
    assert len(job["result"]["responses"]["success"]) == 10_000
    rows = await services.pool.fetchrow(
        "SELECT count(*), count(DISTINCT id) AS ids FROM er_relationships"
    )
    assert (rows["count"], rows["ids"]) == (10_000, 10_000)
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, transaction)
    assert (logs["total"], logs["completed"], logs["one_final"]) == (10_000, 10_000, 10_000)
    # The chunk in flight ran again whole: its items count one retry, the others none.
    retries = await services.pool.fetch(
        "SELECT retry_count, count(*) FROM status_logs WHERE transaction_id = $1 GROUP BY 1",
        transaction,
    )
    assert {row["retry_count"]: row["count"] for row in retries} == {0: 9000, 1: 1000}


async def test_a_batch_fanned_out_over_worker_processes_ends_with_one_final_state_per_item(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await equipment(client, token, ns, run_jobs)
    items = feeds(ns, 10_000)
    for k in range(0, 10_000, 7):  # a failure in every chunk, of two kinds
        items[k]["destinationEntityId" if k % 2 else "relationshipType"] = "nowhere"
    failing = {items[k]["id"] for k in range(0, 10_000, 7)}
    workers = [start(services.settings, "worker") for _ in range(3)]
    try:

        async def all_up() -> bool:
            live = await live_workers(services.redis, services.settings.queue_name)
            return len(live) == len(workers)

        # Up before the batch: a batch is done in well under a second now, and a process still
        # starting would find nothing left to help with.
        await wait_for(all_up, timeout_s=30)
        body = await accept(client, token, items)
        job_token, transaction = body["data"]["token"], body["transactionId"]

        async def ended() -> bool:
            state = await services.pool.fetchval(
                "SELECT state FROM jobs WHERE token = $1", job_token
            )
            return state != "PROCESSING"

        await wait_for(ended, timeout_s=60, step_s=0.05)
        helpers = await services.pool.fetch(
            "SELECT state, result FROM jobs WHERE kind = 'help_er_batch'"
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=5)
    result = await services.pool.fetchval("SELECT result FROM jobs WHERE token = $1", job_token)
    assert [s["id"] for s in result["responses"]["success"]] == [
        i["id"] for i in items if i["id"] not in failing
    ]
    assert {f["id"] for f in result["responses"]["failure"]} == failing
    # Chunks were shared: helper jobs, each on a process other than the parent's (a process
    # works on at most two chunks of one batch at once, and the parent takes both), did some.
    assert {row["state"] for row in helpers} == {"COMPLETE"}
    assert sum(row["result"]["chunks"] for row in helpers) > 0
    logs = await services.pool.fetch(
        "SELECT item_id, state, state_history FROM status_logs WHERE transaction_id = $1",
        transaction,
    )
    assert len(logs) == 10_000 and len({log["item_id"] for log in logs}) == 10_000
    for log in logs:
        expected = "Failed" if log["item_id"] in failing else "Completed"
        assert log["state"] == expected
        assert [entry["state"] for entry in log["state_history"]] == [
            "Requested", "Processing", expected,
        ]  # fmt: skip
    assert await services.pool.fetchval("SELECT count(*) FROM er_relationships") == 10_000 - len(
        failing
    )
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0


async def test_concurrent_batches_over_the_same_ids_both_complete(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    # One chunk each, the same rows in opposite orders: a deadlock unless writes lock in order.
    forward = [entity(ns, f"e{i:04}", "AHU") for i in range(1000)]
    backward = [{**item, "entityName": "second"} for item in reversed(forward)]
    accepted = await asyncio.gather(
        *(
            post_items(client, token, "entities", HERE, items, is_async=True)
            for items in (forward, backward)
        )
    )
    tokens = [(await response.json())["data"]["token"] for response in accepted]

    async def both_done() -> bool:
        states = await services.pool.fetch("SELECT state FROM jobs WHERE token = ANY($1)", tokens)
        return {row["state"] for row in states} == {"COMPLETE"}

    await wait_for(both_done, timeout_s=60)
    results = await services.pool.fetch("SELECT result FROM jobs WHERE token = ANY($1)", tokens)
    assert [len(row["result"]["responses"]["success"]) for row in results] == [1000, 1000]
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 1000


async def test_a_batch_job_that_fails_as_a_whole_fails_every_unfinished_item(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, f"e{i}", "AHU") for i in range(3)]
    response = await post_items(client, token, "entities", HERE, items, is_async=True)
    body = await response.json()
    # Sabotage the store under the job: its write fails with an unexpected database error.
    await services.pool.execute("ALTER TABLE er_entities RENAME TO er_entities_gone")
    await run_jobs()
    job = await client.get(f"/async/get/{body['data']['token']}", headers=bearer(token))
    assert job.status == 500
    assert (await job.json())["jobState"] == "FAILED"
    states = await services.pool.fetch(
        "SELECT state, message FROM status_logs WHERE transaction_id = $1", body["transactionId"]
    )
    assert {(r["state"], r["message"]) for r in states} == {
        ("Failed", "The batch job failed: Internal error while running the job")
    }
    assert len(states) == 3


async def test_a_batch_given_up_after_interrupted_attempts_fails_every_item(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, f"ahu-{i}", "AHU") for i in range(3)]
    response = await post_items(client, token, "entities", HERE, items, is_async=True)
    assert response.status == 202
    body = await response.json()
    logs_sql = "SELECT state, message FROM status_logs WHERE transaction_id = $1"
    # Requested records are written when first read (migration 024), as a status route does.
    assert await services.pool.fetch(logs_sql, body["transactionId"]) == []
    assert await statuslog.write_requested(services.pool) == 3
    logs = await services.pool.fetch(logs_sql, body["transactionId"])
    assert {r["state"] for r in logs} == {"Requested"}
    # As if every allowed attempt had started and its worker had died.
    await services.pool.execute(
        "UPDATE jobs SET attempts = $2 WHERE token = $1",
        body["data"]["token"],
        services.settings.job_max_tries,
    )
    await run_jobs()
    logs = await services.pool.fetch(logs_sql, body["transactionId"])
    assert [r["state"] for r in logs] == ["Failed"] * 3
    assert all("interrupted" in r["message"] for r in logs)
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 0


async def test_a_batch_staged_before_chunks_existed_is_split_and_completes(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    """A batch accepted by a gateway of before migration 007 (items in er_batches.items)."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    principal = await services.auth.authenticate(token)
    items = [entity(ns, f"e{i:04}", "AHU") for i in range(2500)]
    request = BatchRequest(
        "LEGACY", "corr", "entity", len(items), HERE, "Brick_0_4",
        {HERE: [HERE, "Brick_0_4"]},
    )  # fmt: skip

    async def stage_as_before(conn: asyncpg.Connection, job_token: str) -> None:
        await conn.execute(
            "INSERT INTO er_batches (transaction_id, collection_id, item_kind, items, job_token,"
            " correlation_id) VALUES ('LEGACY', $1, 'entity', $2, $3, 'corr')",
            HERE, items, job_token,
        )  # fmt: skip
        # Its Requested records were written with it then.
        await conn.execute(
            "INSERT INTO status_logs (transaction_id, correlation_id, collection_id, item_kind,"
            " item_id, position, state, state_history)"
            " SELECT 'LEGACY', 'corr', $1, 'entity', u.id, u.n - 1, 'Requested',"
            " '[{\"state\": \"Requested\"}]' FROM unnest($2::text[]) WITH ORDINALITY u(id, n)",
            HERE, [i["id"] for i in items],
        )  # fmt: skip

    job = await services.jobs.submit(
        ENTITIES.job_kind, principal, asdict(request), stage=stage_as_before
    )
    await run_jobs()
    done = await services.pool.fetchrow(
        "SELECT state, result FROM jobs WHERE token = $1", job.token
    )
    assert done["state"] == "COMPLETE"
    assert len(done["result"]["responses"]["success"]) == 2500
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, "LEGACY")
    assert (logs["total"], logs["completed"], logs["one_final"]) == (2500, 2500, 2500)
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 2500
    assert await services.pool.fetchval("SELECT count(*) FROM er_batch_chunks") == 0


async def test_an_integer_beyond_64_bits_survives_staging_exactly(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    big = 123456789012345678901234567890
    items = [entity(ns, "big", "AHU", customData={"n": big}), entity(ns, "small", "AHU")]
    response = await post_items(client, token, "entities", HERE, items, is_async=True)
    assert response.status == 202, await response.text()
    await run_jobs()
    body = await services.pool.fetchval("SELECT body FROM er_entities WHERE id = 'big'")
    assert body["customData"] == {"n": big}


async def test_a_cancelled_fanned_out_batch_stops_claiming_and_ends_every_item_once(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    await equipment(client, token, ns, run_jobs)
    items = feeds(ns, 10_000)
    # The 3rd chunk waits on an uncommitted row, so the batch is still running when cancelled.
    blocker = await services.pool.acquire()
    held = blocker.transaction()
    await held.start()
    await blocker.execute("SET LOCAL session_replication_role = replica")
    await blocker.execute(
        "INSERT INTO er_relationships (collection_id, id, relationship_type, source_entity_id,"
        " destination_collection_id, destination_entity_id, derived, body, transaction_id)"
        " VALUES ($1, $2, $3, 'ahu-0', $1, 'fan-0', '{}', '{}', 'held')",
        HERE, items[2500]["id"], items[2500]["relationshipType"],
    )  # fmt: skip
    workers = [start(services.settings, "worker") for _ in range(2)]
    released = False
    try:
        body = await accept(client, token, items)
        job_token, transaction = body["data"]["token"], body["transactionId"]

        async def some_chunks_done() -> bool:
            done = await services.pool.fetchval(
                "SELECT count(*) FROM er_batch_chunks WHERE transaction_id = $1 AND done",
                transaction,
            )
            return done >= 2

        await wait_for(some_chunks_done, timeout_s=60, step_s=0.02)
        cancel = await client.post(f"/async/cancel/{job_token}", headers=bearer(token))
        assert cancel.status == 202
        await asyncio.sleep(0.3)
        await held.rollback()
        released = True

        async def ended() -> bool:
            state = await services.pool.fetchval(
                "SELECT state FROM jobs WHERE token = $1", job_token
            )
            return state != "PROCESSING"

        await wait_for(ended, timeout_s=60, step_s=0.05)
    finally:
        if not released:
            await held.rollback()
        await services.pool.release(blocker)
        for worker in workers:
            worker.kill()
            worker.wait(timeout=5)
    assert (
        await services.pool.fetchval("SELECT state FROM jobs WHERE token = $1", job_token)
        == "CANCELLED"
    )
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, transaction)
    assert (logs["total"], logs["one_final"]) == (10_000, 10_000)
    cancelled = await services.pool.fetchval(
        "SELECT count(*) FROM status_logs WHERE transaction_id = $1 AND state = 'Failed'"
        " AND message = 'cancelled'",
        transaction,
    )
    assert cancelled > 0 and logs["completed"] + cancelled == 10_000
    assert (
        await services.pool.fetchval("SELECT count(*) FROM er_relationships") == logs["completed"]
    )
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0
