"""A batch job that fails as a whole leaves no item Requested or Processing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections

HERE = "august_14_81"
STATES = "SELECT state, message FROM status_logs WHERE transaction_id = $1 ORDER BY item_id"


async def test_batch_given_up_after_interrupted_attempts_fails_every_item(
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
    accepted = await response.json()
    transaction_id, job_token = accepted["transactionId"], accepted["data"]["token"]
    assert {r["state"] for r in await services.pool.fetch(STATES, transaction_id)} == {"Requested"}

    # As if every allowed attempt had started and its worker had died.
    await services.pool.execute(
        "UPDATE jobs SET attempts = $2 WHERE token = $1",
        job_token,
        services.settings.job_max_tries,
    )
    await run_jobs()

    logs = await services.pool.fetch(STATES, transaction_id)
    assert [r["state"] for r in logs] == ["Failed"] * 3
    assert all("interrupted" in r["message"] for r in logs)
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 0
