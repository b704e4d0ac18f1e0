from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from shared.jobs.runner import JobContext, JobKind
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from worker.settings import make_worker
from worker.tasks import ALL_KINDS

SELFTEST = "/selftest/async/start"


async def start(client: TestClient, token: str, body: object) -> str:
    response = await client.post(SELFTEST, json=body, headers=bearer(token))
    assert response.status == 201, await response.text()
    return (await response.json())["token"]


async def test_job_is_durable_before_it_runs_then_completes(
    client: TestClient,
    make_token: TokenFactory,
    services: Services,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {"message": "hello"})
    assert len(job_token) == 32
    row = await services.pool.fetchrow("SELECT * FROM jobs WHERE token = $1", job_token)
    assert row["state"] == "PROCESSING" and row["kind"] == "selftest"

    pending = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert pending.status == 202
    status = await pending.json()
    assert status["jobState"] == "PROCESSING" and status["jobId"] == job_token

    await run_jobs()
    done = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert done.status == 200
    assert await done.json() == {"echo": "hello", "attempts": 1}


async def test_failed_job_answers_with_its_error_status(
    client: TestClient, make_token: TokenFactory, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {"fail": "the widget is bent"})
    await run_jobs()
    response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert response.status == 400
    body = await response.json()
    assert body["jobState"] == "FAILED"
    assert body["reason"] == body["errorMessage"] == "the widget is bent"


async def test_unknown_job_is_404_and_another_principals_job_is_403(
    client: TestClient, make_token: TokenFactory
) -> None:
    alice = await make_token("alice", "view")
    bob = await make_token("bob", "view")
    job_token = await start(client, alice, {})
    assert (await client.get("/async/get/0123abcd", headers=bearer(alice))).status == 404
    assert (await client.get(f"/async/get/{job_token}", headers=bearer(bob))).status == 403


async def test_enqueue_uses_the_token_as_arq_job_id_once(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {})
    queued = await services.redis.zrange(services.settings.queue_name, 0, -1)
    assert queued == [job_token.encode()]
    again = await services.redis.enqueue_job("selftest", job_token, _job_id=job_token)
    assert again is None


async def test_finished_job_is_not_run_again(
    client: TestClient,
    make_token: TokenFactory,
    services: Services,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {"message": "once"})
    await run_jobs()
    finished = await services.pool.fetchrow("SELECT * FROM jobs WHERE token = $1", job_token)
    assert (finished["attempts"], finished["state"]) == (1, "COMPLETE")

    # A duplicate delivery of a finished job changes nothing, and its handler never runs.
    ran: list[str] = []

    async def spy(job: JobContext, request: Any) -> Any:
        ran.append(job.token)
        return {"ran": "again"}

    kinds = {**ALL_KINDS, "selftest": JobKind("selftest", dict, spy)}
    await services.redis.enqueue_job("selftest", job_token, _job_id=f"{job_token}-again")
    worker = make_worker(services.settings, burst=True, poll_delay=0.01, job_kinds=kinds)
    try:
        await worker.main()
    finally:
        await worker.close()
    assert ran == []
    assert await services.redis.zcard(services.settings.queue_name) == 0  # it was delivered
    row = await services.pool.fetchrow("SELECT * FROM jobs WHERE token = $1", job_token)
    assert dict(row) == dict(finished)
    response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert await response.json() == {"echo": "once", "attempts": 1}


async def test_waiting_call_returns_result_without_polling(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", "view")
    # The worker's completion message wakes the call: without it, the call would wait out the
    # whole sync wait (30 s here) before looking at the job again, so a few seconds is the bound.
    began = time.monotonic()
    async with asyncio.timeout(8):
        response = await client.post(
            SELFTEST + "?wait=true",
            json={"message": "now", "sleepSeconds": 0.2},
            headers=bearer(token),
        )
        body = await response.json()
    assert response.status == 200
    assert body == {"echo": "now", "attempts": 1}
    assert time.monotonic() - began >= 0.2


async def test_waiting_call_times_out_with_a_clear_error(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    # No worker runs, so the job cannot finish: the wait must end, not hang.
    job = await services.jobs.submit(
        "selftest",
        await services.auth.authenticate(await make_token("alice", "view")),
        {"sleepSeconds": 0, "message": "", "fail": None},
    )
    from shared.errors import JobTimeout
    from shared.jobs import JobService, JobWaiter

    waiter = JobWaiter(services.redis, services.settings.queue_name)
    await waiter.start()
    try:
        jobs = JobService(services.pool, services.redis, services.settings, waiter)
        try:
            await jobs.wait(job.token, timeout_s=0.3)
        except JobTimeout as error:
            assert error.status == 504 and job.token in error.message
        else:
            raise AssertionError("wait must time out")
    finally:
        await waiter.stop()


async def test_progress_is_visible_while_running(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {"sleepSeconds": 1.0})
    seen = None
    for _ in range(40):
        response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
        if response.status == 202 and (body := await response.json())["progressCurrent"] > 0:
            seen = body
            break
        await asyncio.sleep(0.05)
    assert seen is not None and seen["progressTotal"] == 10


async def test_job_interrupted_too_often_ends_failed_not_stuck(
    client: TestClient,
    make_token: TokenFactory,
    services: Services,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    token = await make_token("alice", "view")
    job_token = await start(client, token, {"message": "poison"})
    # As if every allowed attempt had started and its worker had died.
    limit = services.settings.job_max_tries
    await services.pool.execute("UPDATE jobs SET attempts = $2 WHERE token = $1", job_token, limit)
    await run_jobs()
    response = await client.get(f"/async/get/{job_token}", headers=bearer(token))
    assert response.status == 500
    body = await response.json()
    assert body["jobState"] == "FAILED"
    assert f"interrupted {limit} times" in body["reason"]
