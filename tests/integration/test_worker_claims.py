"""PromptWorker's override of arq's Worker: batched claims that never hand one job to two
workers, and the arq internals it relies on (arq is pinned to 0.28 for them)."""

from __future__ import annotations

import asyncio
import inspect

import arq
from arq.worker import Worker

from shared.jobs.fair_queue import FairQueue
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
