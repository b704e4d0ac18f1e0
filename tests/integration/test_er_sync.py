"""Synchronous batches run in the gateway: one transaction, whole status logs, a job row."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.er import batches
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections, upsert_ok

HERE = "august_14_81"


async def test_a_synchronous_batch_is_written_logged_and_recorded_as_a_complete_job(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    """No worker runs here: the 207 comes from the gateway alone."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, "a", "AHU"), entity(ns, "b", "Nothing"), entity(ns, "c", "Fan")]
    headers = {**bearer(token), "ercollectionid": HERE, "async": "false"}
    response = await client.post("/apollo/er/entities", json=items, headers=headers)
    body = await response.json()
    assert response.status == 207, body
    responses = body["data"]["responses"]
    assert [s["id"] for s in responses["success"]] == ["a", "c"]
    assert [f["id"] for f in responses["failure"]] == ["b"]
    logs = await services.pool.fetch(
        "SELECT item_id, state, position, state_history FROM status_logs ORDER BY position"
    )
    assert [(log["item_id"], log["state"], log["position"]) for log in logs] == [
        ("a", "Completed", 0), ("b", "Failed", 1), ("c", "Completed", 2),
    ]  # fmt: skip
    for log in logs:
        assert [e["state"] for e in log["state_history"]] == [
            "Requested",
            "Processing",
            log["state"],
        ]
    job = await services.pool.fetchrow(
        "SELECT kind, state, request, result, items_stored, items_failed FROM jobs"
    )
    assert (job["kind"], job["state"]) == ("er_upsert_entities", "COMPLETE")
    assert (job["items_stored"], job["items_failed"]) == (2, 1)
    assert job["request"]["transactionId"] == body["transactionId"]
    assert job["result"]["responses"] == responses
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0
    assert await services.redis.zcard(services.settings.queue_name) == 0  # nothing queued


async def test_a_replayed_idempotency_key_answers_the_first_synchronous_batch_again(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    items = [entity(ns, "a", "AHU")]
    headers = {**bearer(token), "ercollectionid": HERE, "Idempotency-Key": "load-a"}
    answers = []
    for _ in range(2):
        response = await client.post("/apollo/er/entities", json=items, headers=headers)
        assert response.status == 207
        answers.append(await response.json())
    assert answers[0]["data"] == answers[1]["data"]
    # The replay answers for the first transaction, envelope included, and its log is there.
    assert answers[0]["transactionId"] == answers[1]["transactionId"]
    response = await client.get(
        f"/apollo/status/{answers[1]['transactionId']}", headers=bearer(token)
    )
    assert response.status == 200, await response.text()
    assert await services.pool.fetchval("SELECT count(*) FROM jobs") == 1
    assert await services.pool.fetchval("SELECT count(*) FROM status_logs") == 1
    changed = [entity(ns, "a", "AHU", entityName="other")]
    response = await client.post("/apollo/er/entities", json=changed, headers=headers)
    assert response.status == 422


async def test_a_change_to_a_type_schema_reaches_the_next_batch_despite_the_cache(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    """Type schemas are kept in memory by their collection's types generation (migration 025):
    whatever changes type_schemas bumps it, so the next batch reads the schemas again."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    generation = "SELECT types_generation FROM schema_collections WHERE id = 'Brick_0_4'"
    before = await services.pool.fetchval(generation)
    await upsert_ok(client, token, "entities", HERE, [entity(ns, "a", "AHU")])
    await upsert_ok(client, token, "entities", HERE, [entity(ns, "b", "AHU")])  # from memory
    # Tighten AHU's schema (and its content hash, as every writer sets it) outside the service.
    await services.pool.execute(
        "UPDATE type_schemas SET schema = jsonb_set(schema::jsonb, '{required}',"
        " (schema::jsonb -> 'required') || '[\"customData\"]')::json,"
        " content_sha256 = 'tightened' WHERE type_id = $1 AND is_current",
        f"{ns}__AHU",
    )
    assert await services.pool.fetchval(generation) != before
    response = await post_items(client, token, "entities", HERE, [entity(ns, "c", "AHU")])
    (failure,) = (await response.json())["data"]["responses"]["failure"]
    assert "'customData' is a required property" in failure["message"]


async def test_an_item_created_differently_while_a_batch_ran_fails_and_the_batch_is_recorded_once(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rows, logs and job go in one statement (migration 046), built after the look-ups: an
    item another batch creates with another type in between makes the statement write nothing,
    and the batch runs again in a transaction that fails that item alone."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    headers = {**bearer(token), "ercollectionid": HERE, "async": "false"}
    real_judge_for, raced = batches.judge_for, []

    def racing_judge_for(*args: Any) -> Any:
        judge_chunk = real_judge_for(*args)

        async def judge_then_race(*judge_args: Any) -> Any:
            judged = await judge_chunk(*judge_args)
            if not raced:  # the racing batch's own judge does not race again
                raced.append(True)
                other = [entity(ns, "a", "Fan")]
                response = await client.post("/apollo/er/entities", json=other, headers=headers)
                assert response.status == 207, await response.text()
            return judged

        return judge_then_race

    monkeypatch.setattr(batches, "judge_for", racing_judge_for)
    items = [entity(ns, "a", "AHU"), entity(ns, "b", "AHU")]
    response = await client.post("/apollo/er/entities", json=items, headers=headers)
    body = await response.json()
    assert response.status == 207, body
    assert raced
    responses = body["data"]["responses"]
    assert [s["id"] for s in responses["success"]] == ["b"]
    assert [f["id"] for f in responses["failure"]] == ["a"]
    stored = await services.pool.fetch("SELECT id, entity_type FROM er_entities ORDER BY id")
    assert [(row["id"], row["entity_type"].split("__")[-1]) for row in stored] == [
        ("a", "Fan"), ("b", "AHU"),
    ]  # fmt: skip
    logs = await services.pool.fetch(
        "SELECT item_id, state FROM status_logs WHERE transaction_id = $1 ORDER BY position",
        body["transactionId"],
    )
    assert [(log["item_id"], log["state"]) for log in logs] == [("a", "Failed"), ("b", "Completed")]
    jobs = await services.pool.fetch("SELECT request->>'transactionId' AS t, result FROM jobs")
    ours = [job for job in jobs if job["t"] == body["transactionId"]]
    assert len(jobs) == 2 and len(ours) == 1
    assert ours[0]["result"]["responses"] == responses
