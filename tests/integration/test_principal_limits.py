"""Per-principal limits (issue 23): past each one a 429 with Retry-After in the caller's API
family's format, nothing written for the refused request, another principal unaffected, and
room again once the principal's requests or work have drained."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from gateway.keys import SERVICES
from shared.observability.metrics import principal_bucket
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer, started_gateway
from tests.er_helpers import ALL_SCOPES, entity, post_items, put_grants, two_collections

HERE = "august_14_81"
PROFILE = "/repo/v1/userProfile"
VALIDATION_START = "/repo/v1/schema/type/validation/async/start"
VALIDATION_BODY = {"$id": "org-a-example.Thing"}
SCOPES = ("view", "modify", *ALL_SCOPES)

COUNTS = """
SELECT (SELECT count(*) FROM jobs WHERE principal_id = $1) AS jobs,
       (SELECT count(*) FROM er_batches b JOIN jobs j ON j.token = b.job_token
        WHERE j.principal_id = $1) AS batches,
       (SELECT count(*) FROM er_batch_chunks c JOIN er_batches b USING (transaction_id)
        JOIN jobs j ON j.token = b.job_token WHERE j.principal_id = $1) AS chunks
"""


async def limited_client(settings: Settings, **limits: int) -> AsyncIterator[TestClient]:
    async with TestClient(await started_gateway(settings.replace(**limits))) as client:
        yield client


@pytest.fixture
async def rate_limited(settings: Settings) -> AsyncIterator[TestClient]:
    async for client in limited_client(settings, requests_per_second_per_principal=3):
        yield client


@pytest.fixture
async def jobs_limited(settings: Settings) -> AsyncIterator[TestClient]:
    async for client in limited_client(settings, unfinished_jobs_per_principal=2):
        yield client


@pytest.fixture
async def items_limited(settings: Settings) -> AsyncIterator[TestClient]:
    async for client in limited_client(settings, queued_items_per_principal=150):
        yield client


async def assert_429(response: ClientResponse) -> dict[str, Any]:
    body: dict[str, Any] = await response.json()
    assert response.status == 429, body
    assert int(response.headers["Retry-After"]) >= 1
    return body


async def principal_id(client: TestClient, name: str) -> int:
    found = await client.app[SERVICES].pool.fetchval(
        "SELECT id FROM principals WHERE name = $1", name
    )
    assert found is not None
    return int(found)


async def metrics(client: TestClient) -> str:
    response = await client.get("/metrics")
    assert response.status == 200
    return await response.text()


async def test_requests_past_the_rate_are_429_in_each_family_and_refill(
    rate_limited: TestClient, make_token: TokenFactory
) -> None:
    alice, bob = await make_token("alice", *SCOPES), await make_token("bob", *SCOPES)
    for _ in range(3):
        assert (await rate_limited.get(PROFILE, headers=bearer(alice))).status == 200
    synapse = await assert_429(await rate_limited.get(PROFILE, headers=bearer(alice)))
    assert "3 requests per second" in synapse["reason"]
    apollo = await assert_429(
        await rate_limited.get("/apollo/er/ercollections", headers=bearer(alice))
    )
    assert apollo["status"]["code"] == "429"
    assert "3 requests per second" in apollo["status"]["message"]
    # Another principal has a bucket of its own.
    assert (await rate_limited.get(PROFILE, headers=bearer(bob))).status == 200
    assert 'limit="requests_per_second"' in await metrics(rate_limited)
    await asyncio.sleep(1.1)  # the bucket refills at 3 a second
    assert (await rate_limited.get(PROFILE, headers=bearer(alice))).status == 200


async def test_unfinished_jobs_past_the_limit_are_429_with_no_job_recorded(
    jobs_limited: TestClient,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    alice, bob = await make_token("alice", *SCOPES), await make_token("bob", *SCOPES)

    async def start(token: str) -> ClientResponse:
        return await jobs_limited.post(
            VALIDATION_START, json=VALIDATION_BODY, headers=bearer(token)
        )

    for _ in range(2):
        assert (await start(alice)).status == 201
    refused = await assert_429(await start(alice))
    assert "At most 2 jobs" in refused["reason"]
    pool = jobs_limited.app[SERVICES].pool
    alice_id = await principal_id(jobs_limited, "alice")
    assert (await pool.fetchrow(COUNTS, alice_id))["jobs"] == 2
    series = (
        f'brickyard_principal_unfinished_jobs{{principal_bucket="{principal_bucket(alice_id)}"}}'
    )
    scraped = await metrics(jobs_limited)
    assert f"{series} 2.0" in scraped
    bucket = f'{{principal_bucket="{principal_bucket(alice_id)}"}}'
    # No worker runs: both wait in the queue.
    assert f"brickyard_principal_queue_depth{bucket} 2.0" in scraped
    assert f"brickyard_principal_running_jobs{bucket} 0.0" in scraped
    assert (await start(bob)).status == 201
    await run_jobs()  # every job finishes: alice has room again
    assert (await start(alice)).status == 201


async def test_concurrent_submissions_never_pass_the_unfinished_jobs_limit(
    jobs_limited: TestClient, make_token: TokenFactory
) -> None:
    # The admission's lock, count and the insert are one statement: its count must still see
    # every job a submitter that held the lock before committed.
    alice = await make_token("alice", *SCOPES)
    responses = await asyncio.gather(
        *(
            jobs_limited.post(VALIDATION_START, json=VALIDATION_BODY, headers=bearer(alice))
            for _ in range(12)
        )
    )
    assert sorted(response.status for response in responses) == [201] * 2 + [429] * 10
    pool = jobs_limited.app[SERVICES].pool
    alice_id = await principal_id(jobs_limited, "alice")
    assert (await pool.fetchrow(COUNTS, alice_id))["jobs"] == 2


async def test_queued_items_past_the_limit_are_429_with_nothing_staged(
    items_limited: TestClient,
    make_token: TokenFactory,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    alice, bob = await make_token("alice", *ALL_SCOPES), await make_token("bob", *ALL_SCOPES)
    pool = items_limited.app[SERVICES].pool
    namespace = await two_collections(items_limited, pool, alice)
    await put_grants(items_limited, alice, HERE, bob="readwrite")

    def batch(prefix: str) -> list[dict[str, Any]]:
        return [entity(namespace, f"{prefix}-{i}", "AHU") for i in range(100)]

    async def send(token: str, prefix: str) -> ClientResponse:
        return await post_items(
            items_limited, token, "entities", HERE, batch(prefix), is_async=True
        )

    assert (await send(alice, "a1")).status == 202
    refused = await assert_429(await send(alice, "a2"))
    assert refused["status"]["code"] == "429"
    assert "100 are and this request brings 100" in refused["status"]["message"]
    alice_id = await principal_id(items_limited, "alice")
    counts = await pool.fetchrow(COUNTS, alice_id)
    assert (counts["jobs"], counts["batches"]) == (1, 1)
    assert await pool.fetchval("SELECT count(*) FROM status_logs WHERE item_id LIKE 'a2-%'") == 0
    series = f'brickyard_principal_queued_items{{principal_bucket="{principal_bucket(alice_id)}"}}'
    assert f"{series} 100.0" in await metrics(items_limited)
    assert 'limit="queued_items"' in await metrics(items_limited)
    assert (await send(bob, "b1")).status == 202
    await run_jobs()  # the batches are done: alice's queue is empty again
    assert (await send(alice, "a3")).status == 202
