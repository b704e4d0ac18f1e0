"""PromptWorker's override of arq's Worker: batched claims that never hand one job to two
workers, and the arq internals it relies on (arq is pinned to 0.28 for them)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect

import arq
from arq.worker import Worker

from shared.jobs import JobState, store
from shared.jobs.channels import wake_channel, wake_message
from shared.jobs.fair_queue import FairQueue, Keys, QueuedJob, enqueue
from shared.services import Services
from shared.settings import Settings
from worker.prompt import PromptWorker
from worker.settings import make_worker

NOOP = {"sleepSeconds": 0, "message": "", "fail": None}


def test_arq_is_the_minor_version_the_worker_was_written_for() -> None:
    assert arq.VERSION.startswith("0.28."), arq.VERSION
    # What PromptWorker reads or overrides of arq's Worker.
    for name in ("main", "close", "handle_sig", "_jobs_started"):
        assert callable(getattr(Worker, name)), name
    parameters = inspect.signature(Worker.__init__).parameters
    for name in ("functions", "queue_name", "max_jobs", "poll_delay", "burst", "handle_signals"):
        assert name in parameters, name


async def test_concurrent_claims_never_share_a_job(services: Services) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    tokens = {(await services.jobs.submit("selftest", principal, NOOP)).token for _ in range(30)}
    queue = FairQueue(services.redis, services.settings.queue_name)

    async def take(count: int) -> list[str]:
        return (await queue.claim(count, 10_000, count + 100, running_limit=100)).tokens

    batches = await asyncio.gather(*(take(8) for _ in range(5)))
    claimed = [token for batch in batches for token in batch]
    assert len(claimed) == len(set(claimed)) == 30  # 5 x 8 asked, 30 there, none twice
    assert set(claimed) == tokens
    assert await take(8) == []  # every job is claimed until its lease runs out


async def test_a_worker_drains_its_queue_in_batches_and_records_each_job_once(
    services: Services, settings: Settings
) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    for _ in range(50):
        await services.jobs.submit("selftest", principal, NOOP)
    worker = make_worker(settings, burst=True, max_jobs=10)
    assert isinstance(worker, PromptWorker)
    try:
        await asyncio.wait_for(worker.main(), timeout=30)
    finally:
        await worker.close()
    rows = await services.pool.fetch("SELECT state, attempts, lease_owner FROM jobs")
    assert {(r["state"], r["attempts"], r["lease_owner"]) for r in rows} == {("COMPLETE", 1, None)}
    assert len(rows) == 50
    assert await services.redis.zcard(settings.queue_name) == 0


async def test_a_job_a_wake_names_is_leased_without_the_claim_script(
    services: Services, settings: Settings
) -> None:
    # Neither job is in the queue, so the claim script cannot hand them out: only a handoff
    # naming them starts one, and PostgreSQL's lease still decides, so the job another
    # worker holds stays with it. (The entry waits in the list for the worker to block on it.)
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    named = await store.insert(services.pool, "a" * 32, "selftest", principal.id, NOOP)
    held = await store.insert(services.pool, "b" * 32, "selftest", principal.id, NOOP)
    await store.claim(services.pool, [held.token], "another-worker", 60)
    worker = make_worker(settings, poll_delay=60)
    running = asyncio.create_task(worker.main())
    handoff = Keys(settings.queue_name).handoff
    try:
        await services.redis.rpush(handoff, wake_message([named.token, held.token]))
        for _ in range(500):
            job = await store.get(services.pool, named.token)
            if job is not None and job.done:
                break
            await asyncio.sleep(0.02)
        assert job is not None and job.state is JobState.COMPLETE
        assert job.attempt_workers == [worker.worker_id]
        other = await store.get(services.pool, held.token)
        assert other is not None and other.lease_owner == "another-worker" and other.attempts == 1
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()


async def test_a_wake_lease_passes_over_a_row_another_transaction_holds_locked(
    services: Services, settings: Settings
) -> None:
    # A wake's lease must not wait on a row another transaction holds locked (here an open
    # transaction stands for a cancel, or for another worker's lease of a job that an old
    # gateway's wake offered every worker), nor keep the other jobs it names waiting with it.
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    locked = await store.insert(services.pool, "e" * 32, "selftest", principal.id, NOOP)
    free = await store.insert(services.pool, "f" * 32, "selftest", principal.id, NOOP)
    worker = make_worker(settings, poll_delay=60)
    running = asyncio.create_task(worker.main())
    handoff = Keys(settings.queue_name).handoff
    try:
        async with services.pool.acquire() as winner, winner.transaction():
            await winner.execute("SELECT 1 FROM jobs WHERE token = $1 FOR UPDATE", locked.token)
            await services.redis.rpush(handoff, wake_message([locked.token, free.token]))
            for _ in range(250):
                job = await store.get(services.pool, free.token)
                if job is not None and job.done:
                    break
                await asyncio.sleep(0.02)
            assert job is not None and job.state is JobState.COMPLETE
        untouched = await store.get(services.pool, locked.token)
        assert untouched is not None and untouched.attempts == 0 and untouched.lease_owner is None
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()


async def test_the_queue_is_claimed_every_poll_delay_however_many_wakes_come(
    services: Services, settings: Settings
) -> None:
    # A job in the queue that no wake names (a dead worker's, its lease run out) is claimed at
    # the next poll even while wakes for other jobs keep the worker from ever waiting that long.
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    queued = await store.insert(services.pool, "c" * 32, "selftest", principal.id, NOOP)
    worker = make_worker(settings, poll_delay=0.3)
    running = asyncio.create_task(worker.main())
    channel = wake_channel(settings.queue_name)
    try:
        for _ in range(500):  # until the worker listens, having looked at the empty queue
            if (await services.redis.pubsub_numsub(channel))[0][1]:
                break
            await asyncio.sleep(0.02)
        # Queued as the reconciler does, so no wake names it.
        job_in_queue = QueuedJob("selftest", queued.token, principal.id)
        await enqueue(services.redis, settings.queue_name, [job_in_queue], running_limit=None)
        handoff = Keys(settings.queue_name).handoff
        for _ in range(100):  # 5 s of handoffs, 20 a second, naming a job that does not exist
            await services.redis.rpush(handoff, wake_message(["d" * 32]))
            job = await store.get(services.pool, queued.token)
            if job is not None and job.done:
                break
            await asyncio.sleep(0.05)
        assert job is not None and job.state is JobState.COMPLETE
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()
