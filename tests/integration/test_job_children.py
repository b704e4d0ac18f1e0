"""Child jobs queued through the job's context: ordinary jobs of the same principal, or a 503."""

from __future__ import annotations

import pytest
from arq.connections import ArqRedis

from shared.errors import ServiceUnavailable
from shared.jobs import store
from shared.jobs.runner import JobContext
from shared.services import Services
from tests.integration.test_job_reliability import NOOP, closed_port


async def parent(services: Services) -> JobContext:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    job = await services.jobs.submit("selftest", principal, NOOP)
    [claimed] = await store.claim(services.pool, [job.token], "worker-a", 60)
    return JobContext(claimed, services.pool, services.redis, services.settings)


async def test_children_are_queued_for_the_parent_principal(services: Services) -> None:
    context = await parent(services)
    tokens = await context.queue("selftest", {"message": "child"}, count=3)
    rows = await services.pool.fetch(
        "SELECT token, principal_id, state, request FROM jobs WHERE token = ANY($1)", tokens
    )
    assert len(rows) == 3 and len(set(tokens)) == 3
    assert {(r["principal_id"], r["state"]) for r in rows} == {(context.principal_id, "PROCESSING")}
    assert all(r["request"] == {"message": "child"} for r in rows)
    queued = await services.redis.zrange(services.settings.queue_name, 0, -1)
    assert {t.decode() for t in queued} >= set(tokens)


async def test_children_the_queue_refuses_end_failed_and_raise_503(services: Services) -> None:
    context = await parent(services)
    context.redis = ArqRedis(host="127.0.0.1", port=closed_port())
    try:
        with pytest.raises(ServiceUnavailable):
            await context.queue("selftest", NOOP, count=2)
    finally:
        await context.redis.aclose()
    rows = await services.pool.fetch(
        "SELECT state, error_status FROM jobs WHERE token <> $1", context.token
    )
    assert [tuple(r) for r in rows] == [("FAILED", 503), ("FAILED", 503)]
