"""The job core's guarantees with a worker in this process: reconciling PostgreSQL with the
queue, leases that fence outcomes, cancel, Idempotency-Key and refused enqueues."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp.test_utils import TestClient
from arq.connections import ArqRedis
from arq.constants import job_key_prefix

from shared.er.batch_kinds import ENTITIES
from shared.er.batches import Submission, accept_async
from shared.errors import ServiceUnavailable
from shared.jobs import store
from shared.jobs.model import JobState
from shared.jobs.reconciler import reconcile_once
from shared.jobs.service import IdempotencyKey, JobService
from shared.jobs.store import JobOutcome
from shared.services import Services
from shared.statuslog import store as statuslog
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import entity, post_items, two_collections
from tests.processes import wait_for

RunJobs = Callable[[], Awaitable[None]]
NOOP = {"sleepSeconds": 0, "message": "", "fail": None}


async def states(services: Services) -> dict[str, int]:
    rows = await services.pool.fetch("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def lose_the_queue(services: Services, tokens: list[str]) -> None:
    """What a Redis that came back without its data looks like to this test's queue."""
    await services.redis.delete(services.settings.queue_name)
    await services.redis.delete(*(job_key_prefix + token for token in tokens))


async def test_reconciler_requeues_accepted_jobs_the_queue_lost(
    services: Services, run_jobs: RunJobs
) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    tokens = [(await services.jobs.submit("selftest", principal, NOOP)).token for _ in range(6)]
    await lose_the_queue(services, tokens)
    await run_jobs()
    assert await states(services) == {"PROCESSING": 6}  # nothing delivers them any more

    repaired = await reconcile_once(
        services.pool, services.redis, services.settings.queue_name, grace_s=0
    )
    assert repaired.ran and sorted(repaired.requeued) == sorted(tokens)
    again = await reconcile_once(
        services.pool, services.redis, services.settings.queue_name, grace_s=0
    )
    assert again.requeued == []  # queued now: never enqueued twice
    await run_jobs()
    assert await states(services) == {"COMPLETE": 6}


async def test_reconciler_leaves_young_and_leased_jobs_alone(services: Services) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    young = await services.jobs.submit("selftest", principal, NOOP)
    leased = await services.jobs.submit("selftest", principal, NOOP)
    await store.claim(services.pool, [leased.token], "another-worker", 60)
    await lose_the_queue(services, [young.token, leased.token])
    queue = services.settings.queue_name
    within_grace = await reconcile_once(services.pool, services.redis, queue, grace_s=60)
    assert within_grace.requeued == []
    no_grace = await reconcile_once(services.pool, services.redis, queue, grace_s=0)
    assert no_grace.requeued == [young.token]  # the leased one runs on its worker


async def test_one_reconciler_at_a_time(services: Services) -> None:
    async with services.pool.acquire() as holder, holder.transaction():
        assert await holder.fetchval(store.TRY_RECONCILER_LOCK)
        blocked = await reconcile_once(
            services.pool, services.redis, services.settings.queue_name, grace_s=0
        )
    assert not blocked.ran


async def test_an_outcome_is_fenced_by_the_lease(services: Services) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    job = await services.jobs.submit("selftest", principal, NOOP)
    await store.claim(services.pool, [job.token], "worker-a", 60)
    late = JobOutcome(job.token, JobState.COMPLETE, result={"from": "b"})
    assert await store.finish(services.pool, [late], "worker-b") == set()
    mine = JobOutcome(job.token, JobState.COMPLETE, result={"from": "a"})
    assert await store.finish(services.pool, [mine], "worker-a") == {job.token}
    assert (await store.get(services.pool, job.token)).result == {"from": "a"}  # type: ignore[union-attr]


async def test_a_running_job_is_cancelled_at_its_next_step(
    client: TestClient, make_token: TokenFactory, services: Services, background_worker: None
) -> None:
    token = await make_token("alice", "view")
    response = await client.post(
        "/selftest/async/start", json={"sleepSeconds": 20}, headers=bearer(token)
    )
    job_token = (await response.json())["token"]

    async def running() -> bool:
        job = await store.get(services.pool, job_token)
        return job is not None and job.progress_current > 0

    await wait_for(running)
    cancel = await client.post(f"/async/cancel/{job_token}", headers=bearer(token))
    assert cancel.status == 202
    assert (await cancel.json())["jobCanceling"] is True

    async def cancelled() -> bool:
        job = await store.get(services.pool, job_token)
        return job is not None and job.state is JobState.CANCELLED

    await wait_for(cancelled, timeout_s=5)
    answer = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert answer.status == 409
    assert (await answer.json())["jobState"] == "CANCELLED"
    again = await client.post(f"/async/cancel/{job_token}", headers=bearer(token))
    assert again.status == 200


async def test_cancel_answers_for_ended_unknown_and_foreign_jobs(
    client: TestClient, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    alice, bob = await make_token("alice", "view"), await make_token("bob", "view")
    response = await client.post("/selftest/async/start", json=NOOP, headers=bearer(alice))
    job_token = (await response.json())["token"]
    assert (await client.post(f"/async/cancel/{job_token}", headers=bearer(bob))).status == 403
    await run_jobs()
    ended = await client.post(f"/async/cancel/{job_token}", headers=bearer(alice))
    assert ended.status == 409
    unknown = await client.post(f"/async/cancel/{'0' * 32}", headers=bearer(alice))
    assert unknown.status == 404


async def test_a_cancelled_batch_fails_its_items_and_drops_its_staged_rows(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "apollo_read", "apollo_write", "apollo_admin")
    namespace = await two_collections(client, services.pool, token)
    items = [entity(namespace, f"e{i}", "AHU") for i in range(5)]
    response = await post_items(client, token, "entities", "august_14_81", items, is_async=True)
    assert response.status == 202, await response.text()
    job_token = (await response.json())["data"]["token"]
    assert (await client.post(f"/async/cancel/{job_token}", headers=bearer(token))).status == 202
    await run_jobs()
    job = await store.get(services.pool, job_token)
    assert job is not None and job.state is JobState.CANCELLED
    logs = await services.pool.fetch("SELECT state, message FROM status_logs")
    assert {(row["state"], row["message"]) for row in logs} == {("Failed", "cancelled")}
    assert len(logs) == 5
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM er_entities") == 0


async def test_an_idempotency_key_returns_the_first_job(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    alice, bob = await make_token("alice", "view"), await make_token("bob", "view")

    async def start(token: str, body: object, key: str) -> tuple[int, dict[str, str]]:
        headers = {**bearer(token), "Idempotency-Key": key}
        response = await client.post("/selftest/async/start", json=body, headers=headers)
        return response.status, await response.json()

    first = await start(alice, {"message": "one"}, "k-1")
    assert first[0] == 201
    assert await start(alice, {"message": "one"}, "k-1") == first
    other_body = await start(alice, {"message": "two"}, "k-1")
    assert other_body[0] == 422
    bobs = await start(bob, {"message": "one"}, "k-1")
    assert bobs[0] == 201 and bobs[1]["token"] != first[1]["token"]
    assert await services.pool.fetchval("SELECT count(*) FROM jobs") == 2


async def test_an_idempotent_batch_is_staged_once(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "apollo_read", "apollo_write", "apollo_admin")
    namespace = await two_collections(client, services.pool, token)
    items = [entity(namespace, f"e{i}", "AHU") for i in range(3)]
    headers = {
        **bearer(token),
        "ercollectionid": "august_14_81",
        "async": "true",
        "Idempotency-Key": "load-1",
    }
    answers = []
    for _ in range(2):
        response = await client.post("/apollo/er/entities", json=items, headers=headers)
        assert response.status == 202, await response.text()
        body = await response.json()
        answers.append({**body["data"], "envelope": body["transactionId"]})
    assert answers[0] == answers[1]
    assert answers[0]["envelope"] in answers[0]["tracker"]  # the first call's transaction
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 1
    assert await services.pool.fetchval("SELECT sum(item_count) FROM er_batch_chunks") == 3
    assert await statuslog.write_requested(services.pool) == 3  # as a status read would


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_enqueue_fails_the_job_and_settles_what_it_staged(
    services: Services,
) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    dead_redis = ArqRedis(host="127.0.0.1", port=closed_port())
    jobs = JobService(services.pool, dead_redis, services.settings)
    settled: list[str] = []

    async def stage(conn: asyncpg.Connection, job_token: str) -> None:
        settled.append("staged")

    async def refused(job: object) -> None:
        settled.append("settled")

    key = IdempotencyKey("retry-me", "digest")
    try:
        await jobs.submit(
            "selftest", principal, NOOP, idempotency=key, stage=stage, on_refused=refused
        )
    except ServiceUnavailable as error:
        assert error.status == 503
    else:
        raise AssertionError("a refused enqueue must be a 503")
    finally:
        await dead_redis.aclose()
    assert settled == ["staged", "settled"]
    row = await services.pool.fetchrow("SELECT state, error_status, idempotency_key FROM jobs")
    # The key is free again, so the client's retry with it is a new job, not this failure.
    assert dict(row) == {"state": "FAILED", "error_status": 503, "idempotency_key": None}
    retried = await services.jobs.submit("selftest", principal, NOOP, idempotency=key)
    assert retried.state is JobState.PROCESSING


async def test_a_batch_the_queue_refused_fails_every_item_and_keeps_nothing_staged(
    client: TestClient, services: Services, make_token: TokenFactory
) -> None:
    """Its items' Requested records are written as the batch is removed (migration 024), and
    then fail: no item stays Requested for ever."""
    token = await make_token("alice", "apollo_read", "apollo_write", "apollo_admin")
    ns = await two_collections(client, services.pool, token)
    principal = await services.auth.authenticate(token)
    dead_redis = ArqRedis(host="127.0.0.1", port=closed_port())
    refusing = Services.build(services.settings, services.pool, dead_redis)
    items = [entity(ns, f"e{i}", "AHU") for i in range(1500)]
    batch = Submission(principal, ENTITIES, "august_14_81", items, "T-REFUSED", "corr")
    try:
        await accept_async(refusing, batch)
    except ServiceUnavailable:
        pass
    else:
        raise AssertionError("a refused enqueue must be a 503")
    finally:
        await dead_redis.aclose()
    logs = await services.pool.fetch(
        "SELECT state, message, count(*) AS n FROM status_logs WHERE transaction_id = $1"
        " GROUP BY 1, 2",
        "T-REFUSED",
    )
    assert [tuple(row) for row in logs] == [("Failed", "The job queue is unavailable", 1500)]
    assert await services.pool.fetchval("SELECT count(*) FROM er_batches") == 0
