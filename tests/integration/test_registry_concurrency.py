"""Concurrent creates, made to overlap for real.

The test holds a row lock on the organization, which every create job share-locks, so the
jobs all start and wait at the same point; releasing it lets them race for the schema.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from shared.jobs.model import JobState
from shared.jobs.runner import JobContext, JobKind, LeaseLost, run_claimed
from shared.jobs.store import JobOutcome
from shared.services import Services
from tests.conftest import TokenFactory
from tests.integration.test_job_runs_twice import taken_over
from tests.registry_helpers import RunJobs, create_org, failure_reason, outcome, start_create
from worker.tasks import ALL_KINDS

ORG = "race.organization"
LOCK_ORG = "SELECT 1 FROM registry_organizations WHERE name = $1 FOR UPDATE"
BLOCKERS = """
SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
WHERE datname = current_database()
"""


async def blocked_behind(pool: asyncpg.Pool, holder: int) -> int:
    """How many backends wait on ``holder``, directly or through another waiter."""
    rows = await pool.fetch(BLOCKERS)
    blocked = {holder}
    grew = True
    while grew:
        waiting = {
            r["pid"] for r in rows if r["pid"] not in blocked and set(r["blockers"]) & blocked
        }
        blocked |= waiting
        grew = bool(waiting)
    return len(blocked) - 1


@contextlib.asynccontextmanager
async def organization_held(services: Services) -> AsyncIterator[int]:
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.fetchval(LOCK_ORG, ORG)
        yield await conn.fetchval("SELECT pg_backend_pid()")


async def race(services: Services, run_jobs: RunJobs, workers: int, waiting: int) -> None:
    """Run ``workers`` workers while the organization is held until ``waiting`` jobs wait."""
    async with organization_held(services) as holder:
        running = asyncio.gather(*(run_jobs() for _ in range(workers)))
        for _ in range(200):
            if await blocked_behind(services.pool, holder) >= waiting:
                break
            await asyncio.sleep(0.05)
        else:
            running.cancel()
            raise AssertionError(f"the {waiting} jobs never all waited at the same point")
    await running


async def test_two_creates_of_one_semver_one_wins(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    tokens = [
        await start_create(client, token, {"$id": f"{ORG}-Same-1.0.0", "title": str(i)})
        for i in range(2)
    ]
    await race(services, run_jobs, workers=2, waiting=2)

    outcomes = sorted([await outcome(client, token, t) for t in tokens], key=lambda o: o[0])
    (won, body), (lost, failure) = outcomes
    assert won == 201 and body["newVersionInfo"]["semanticVersion"] == "1.0.0"
    assert "already exists" in failure_reason(lost, failure, 400)
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions") == 1


async def test_unversioned_creates_at_once_all_get_distinct_versions(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    tokens = [
        await start_create(client, token, {"$id": f"{ORG}-Many", "title": str(i)}) for i in range(6)
    ]
    await race(services, run_jobs, workers=3, waiting=6)

    version_ids = set()
    for job_token in tokens:
        status, body = await outcome(client, token, job_token)
        assert status == 201, body
        version_ids.add(body["newVersionInfo"]["versionId"])
    assert len(version_ids) == 6
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schemas") == 1
    assert await services.pool.fetchval("SELECT count(*) FROM registry_schema_versions") == 6


async def run(context: JobContext, kind: JobKind[Any]) -> JobOutcome | LeaseLost:
    """The run's outcome, or the LeaseLost that stopped it (a task loses the subclass)."""
    try:
        return await run_claimed(context, kind)
    except LeaseLost as lost:
        return lost


async def test_racing_runs_of_one_job_register_one_version(
    client: TestClient, make_token: TokenFactory, services: Services
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    job_token = await start_create(client, token, {"$id": f"{ORG}-Twice"})
    # Two runs of the same job, as after a lease taken over, waiting at the same point.
    a, b = await taken_over(services, job_token)
    kind = ALL_KINDS[a.job.kind]
    async with organization_held(services) as holder:
        runs = [asyncio.create_task(run(context, kind)) for context in (a, b)]
        for _ in range(200):
            if await blocked_behind(services.pool, holder) >= 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the two runs never waited at the same point")
    lost, won = await asyncio.gather(*runs)

    assert isinstance(won, JobOutcome) and won.state is JobState.COMPLETE and b.recorded
    # A's completion was refused, or it found B's version there: either way it wrote nothing.
    assert isinstance(lost, LeaseLost) or (
        isinstance(lost, JobOutcome) and lost.result == won.result
    )
    rows = await services.pool.fetch("SELECT id, job_token FROM registry_schema_versions")
    assert [(r["job_token"]) for r in rows] == [job_token]
    status, body = await outcome(client, token, job_token)
    assert status == 201 and body["newVersionInfo"]["versionId"] == str(rows[0]["id"])


async def test_two_creates_closing_a_cycle_at_once_cannot_both_win(
    client: TestClient, make_token: TokenFactory, services: Services, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    for name in ("A", "B"):
        await start_create(client, token, {"$id": f"{ORG}-{name}"})
    await run_jobs()
    # Each new version refers to the latest of the other: alone each is fine, together a cycle.
    tokens = [
        await start_create(client, token, {"$id": f"{ORG}-A", "items": {"$ref": f"{ORG}-B"}}),
        await start_create(client, token, {"$id": f"{ORG}-B", "items": {"$ref": f"{ORG}-A"}}),
    ]
    await race(services, run_jobs, workers=2, waiting=2)

    outcomes = sorted([await outcome(client, token, t) for t in tokens], key=lambda o: o[0])
    (won, _), (lost, failure) = outcomes
    assert won == 201
    assert "circular dependency" in failure_reason(lost, failure, 400)


async def test_creates_that_deadlock_run_again_and_see_the_cycle(
    client: TestClient,
    make_token: TokenFactory,
    services: Services,
    run_jobs: RunJobs,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, ORG)
    for name in ("A", "B"):
        await start_create(client, token, {"$id": f"{ORG}-{name}"})
    await run_jobs()
    workers = []
    async with services.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM registry_schemas WHERE name = 'B' FOR UPDATE")
        holder = await conn.fetchval("SELECT pg_backend_pid()")
        # The first waits to share-lock B; the second share-locks A, then waits to update B.
        first = await start_create(
            client, token, {"$id": f"{ORG}-A", "items": {"$ref": f"{ORG}-B"}}
        )
        workers.append(asyncio.create_task(run_jobs()))
        await wait_for_blocked(services, holder, 1)
        second = await start_create(
            client, token, {"$id": f"{ORG}-B", "items": {"$ref": f"{ORG}-A"}}
        )
        workers.append(asyncio.create_task(run_jobs()))
        await wait_for_blocked(services, holder, 2)
    # Released: the first gets B and wants A, which the second holds while it wants B.
    await asyncio.gather(*workers)

    outcomes = sorted(
        [await outcome(client, token, t) for t in (first, second)], key=lambda o: o[0]
    )
    (won, _), (lost, failure) = outcomes
    assert won == 201
    assert "circular dependency" in failure_reason(lost, failure, 400)
    assert "runs again after a lock conflict" in capsys.readouterr().out


async def wait_for_blocked(services: Services, holder: int, count: int) -> None:
    for _ in range(250):
        if await blocked_behind(services.pool, holder) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} jobs never waited")
