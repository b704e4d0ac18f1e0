"""One job run twice, as after a lease takeover: the lease-fenced completion is the one guard.

Worker A claims the job, its lease runs out, worker B takes it over. A's run, before or after
B's, must write nothing: its completion is refused by the fence and its transaction rolls back.
Each kind that writes in the transaction that completes it is run this way through the real
runner, against PostgreSQL.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from shared.jobs import store
from shared.jobs.model import JobState
from shared.jobs.runner import JobContext, LeaseLost, run_claimed
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections
from tests.integration.test_er_async import ONE_FINAL_ENTRY_EACH
from tests.registry_helpers import create_org, start_create
from tests.schema_helpers import API, admin_headers, create_collection, publish, release
from worker.tasks import ALL_KINDS

LEASE_S = 0.05


async def taken_over(services: Services, token: str) -> tuple[JobContext, JobContext]:
    """The job claimed by worker A, whose lease runs out, then by worker B."""
    [a] = await store.claim(services.pool, [token], "worker-a", LEASE_S)
    await asyncio.sleep(LEASE_S * 3)
    [b] = await store.claim(services.pool, [token], "worker-b", 60)
    return tuple(  # type: ignore[return-value]
        JobContext(job, services.pool, services.redis, services.settings) for job in (a, b)
    )


async def run_twice(
    services: Services, token: str, count_written: str, *args: object
) -> tuple[int, int, int]:
    """A's run while B holds the lease, B's run, then A's again: what is written after each."""
    a, b = await taken_over(services, token)
    kind = ALL_KINDS[a.job.kind]
    with pytest.raises(LeaseLost):
        await run_claimed(a, kind)
    after_a = await services.pool.fetchval(count_written, *args)

    outcome = await run_claimed(b, kind)
    assert outcome.state is JobState.COMPLETE and b.recorded, outcome
    after_b = await services.pool.fetchval(count_written, *args)

    again = JobContext(a.job, services.pool, services.redis, services.settings)
    late = await run_claimed(again, kind)
    # The job had ended: A's run answers with B's outcome and leaves only Redis to update.
    assert again.recorded and late.state is JobState.COMPLETE and late.result == outcome.result
    after_again = await services.pool.fetchval(count_written, *args)
    job = await store.get(services.pool, token)
    assert job is not None and job.attempt_workers == ["worker-a", "worker-b"]
    assert job.result == outcome.result
    return after_a, after_b, after_again


async def test_a_schema_create_run_twice_registers_one_version(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, "twice.organization")
    # No semantic version: nothing but the fence stops a second run inserting a second one.
    job_token = await start_create(client, token, {"$id": "twice.organization-Twice"})
    counted = "SELECT count(*) FROM registry_schema_versions WHERE job_token = $1"
    assert await run_twice(services, job_token, counted, job_token) == (0, 1, 1)


async def test_a_schema_sync_run_twice_writes_once(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    admin = await admin_headers(make_token)
    await publish(client, admin, release("1.0"))
    await create_collection(client, admin, "Twice", releaseLine="acme")
    body = {"schemaType": "entitytypes", "schemaCollectionId": "Twice"}
    response = await client.post(f"{API}/sync", json=body, headers={**admin, "async": "true"})
    assert response.status == 202
    job_token = (await response.json())["data"]["token"]
    counted = "SELECT count(*) FROM type_schemas WHERE collection_id = $1"
    assert await run_twice(services, job_token, counted, "Twice") == (0, 8, 8)


async def test_an_ontology_build_run_twice_builds_once(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    admin = bearer(await make_token("alice", *ALL_SCOPES))
    await publish(client, admin, release("1.0"))
    await create_collection(client, admin, "Twice", releaseLine="acme")
    posting = {**admin, "schemaCollection": "Twice"}
    response = await client.post("/apollo/ontology/entitytypes", json=[], headers=posting)
    assert response.status == 202
    job_token = (await response.json())["data"]["token"]
    counted = "SELECT count(*) FROM ontology_graphs WHERE collection_id = $1"
    assert await run_twice(services, job_token, counted, "Twice") == (0, 1, 1)


async def test_an_er_batch_run_twice_writes_each_item_once(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    namespace = await two_collections(client, services.pool, token)
    items = [entity(namespace, f"ahu-{i}", "AHU") for i in range(3)]
    response = await post_items(client, token, "entities", "august_14_81", items, is_async=True)
    assert response.status == 202
    body = await response.json()
    job_token, transaction = body["data"]["token"], body["transactionId"]
    a, b = await taken_over(services, job_token)
    kind = ALL_KINDS[a.job.kind]
    # A's run writes its chunks (each chunk once: its done mark), but not the batch's end.
    with pytest.raises(LeaseLost):
        await run_claimed(a, kind)
    staged = "SELECT count(*) FROM er_batch_chunks WHERE transaction_id = $1"
    assert await services.pool.fetchval(staged, transaction) == 1

    outcome = await run_claimed(b, kind)
    assert outcome.state is JobState.COMPLETE and b.recorded, outcome
    assert len(outcome.result["responses"]["success"]) == 3
    late = await run_claimed(
        JobContext(a.job, services.pool, services.redis, services.settings), kind
    )
    assert late.state is JobState.COMPLETE
    assert await services.pool.fetchval(staged, transaction) == 0
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 3
    logs = await services.pool.fetchrow(ONE_FINAL_ENTRY_EACH, transaction)
    assert (logs["total"], logs["completed"], logs["one_final"]) == (3, 3, 3)
