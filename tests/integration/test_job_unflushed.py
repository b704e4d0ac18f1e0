"""The statements whose commits do not wait for the WAL's flush (docs/jobs.md, "Speed"): the
lease from a wake, and the insert of a job whose caller waits for its outcome."""

from __future__ import annotations

import asyncio

import pytest

from shared.errors import JobTimeout, ServiceUnavailable
from shared.jobs import JobService, JobWaiter, store
from shared.services import Services
from shared.tenancy.admission import admitting


async def test_an_unflushed_statement_commits_asynchronously_and_only_itself(
    services: Services,
) -> None:
    # Inside a transaction block the setting outlives the statement, which shows that the
    # statement sets it (a planner that left the setting out would leave it on); outside one
    # it must end with the statement's own transaction, or the outcome written next on the
    # same pooled connection would not be flushed either.
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    limits = (10, 1, 10)
    async with services.pool.acquire() as conn:
        default = await conn.fetchval("SHOW synchronous_commit")
        assert default != "off"
        plain = await store.insert(conn, "a" * 32, "selftest", principal.id, {}, flush=False)
        assert await conn.fetchval("SHOW synchronous_commit") == default
        admitted, _, _ = await store.insert_admitted(
            conn, "b" * 32, "selftest", principal.id, {}, None, None, limits, flush=False
        )
        assert admitted is not None
        assert await conn.fetchval("SHOW synchronous_commit") == default
        leased = await store.lease_offered(conn, [plain.token], "w1", 10.0)
        assert [job.token for job in leased] == [plain.token]
        assert await conn.fetchval("SHOW synchronous_commit") == default
        for write in (
            lambda: store.insert(conn, "c" * 32, "selftest", principal.id, {}, flush=False),
            lambda: store.insert_admitted(
                conn, "d" * 32, "selftest", principal.id, {}, None, None, limits, flush=False
            ),
            lambda: store.lease_offered(conn, [admitted.token], "w1", 10.0),
        ):
            async with conn.transaction():
                await write()
                assert await conn.fetchval("SHOW synchronous_commit") == "off"
            assert await conn.fetchval("SHOW synchronous_commit") == default


@pytest.mark.parametrize("lost", [False, True])
async def test_a_sync_wait_that_gives_up_makes_its_job_durable_or_was_never_accepted(
    services: Services, lost: bool
) -> None:
    # run_and_wait inserts its job unflushed: a timeout hands the token out, so the row is made
    # durable first; a row a crash lost meanwhile (deleted here) answers 503, not a token.
    settings = services.settings.replace(sync_wait_timeout_s=0.5)
    waiter = JobWaiter(services.redis, settings.queue_name)
    await waiter.start()
    jobs = JobService(services.pool, services.redis, settings, waiter)
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    try:
        waiting = asyncio.create_task(
            jobs.run_and_wait("selftest", principal, {}, stage=admitting(settings, principal.id))
        )
        token = None
        while token is None:  # no worker runs: the job stays PROCESSING
            await asyncio.sleep(0.01)
            token = await services.pool.fetchval("SELECT token FROM jobs")
        if lost:
            await services.pool.execute("DELETE FROM jobs")
        with pytest.raises(ServiceUnavailable if lost else JobTimeout):
            await waiting
        assert await services.pool.fetchval("SELECT count(*) FROM jobs") == (0 if lost else 1)
    finally:
        await waiter.stop()
