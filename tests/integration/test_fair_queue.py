"""The queue's fair order and the running-jobs limit, at the Redis scripts' level
(``shared.jobs.fair_queue``): what a claim takes, in which order, and what it leaves queued."""

from __future__ import annotations

import secrets

import pytest
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms

from shared.jobs.channels import wake_channel, wake_tokens
from shared.jobs.fair_queue import (
    FairQueue,
    Keys,
    QueuedJob,
    defer,
    enqueue,
    missing,
    waiting_counts,
)
from shared.jobs.reconciler import reconcile_once
from shared.jobs.recorder import forget_in_redis
from shared.services import Services

CLAIM_MS = 10_000
A, B = 1, 2
# Claims (arq's in-progress keys) are not per queue: each test's tokens are its own.
RUN = [""]


@pytest.fixture(autouse=True)
def own_tokens() -> None:
    RUN[0] = secrets.token_hex(4)


def t(name: str) -> str:
    return f"{RUN[0]}-{name}"


def names(tokens: list[str]) -> list[str]:
    return [token.removeprefix(f"{RUN[0]}-") for token in tokens]


async def claim(queue: FairQueue, wanted: int, limit: int = 1000) -> list[str]:
    return names((await queue.claim(wanted, CLAIM_MS, wanted + 100, limit)).tokens)


async def finish(services: Services, tokens: list[str]) -> None:
    """What a worker does in Redis once a job's outcome is recorded."""
    name = services.settings.queue_name
    await forget_in_redis(services.redis, name, [t(token) for token in tokens], announce=False)


async def test_a_principal_that_queued_little_goes_before_one_that_queued_much(
    services: Services,
) -> None:
    name = services.settings.queue_name
    flood = [QueuedJob("help_er_batch", t(f"a{n}"), A, cost=10_000) for n in range(5)]
    await enqueue(services.redis, name, flood, running_limit=None)
    await enqueue(
        services.redis, name, [QueuedJob("help_er_batch", t("b0"), B, cost=100)], running_limit=None
    )
    queue = FairQueue(services.redis, name)
    # B's 100 items end before A's first 10000 do: B goes first, though it came last.
    assert await claim(queue, 2) == ["b0", "a0"]
    await enqueue(services.redis, name, [QueuedJob("selftest", t("b1"), B)], running_limit=None)
    # The queue's clock is now at A's first job: B's next job comes before A's second.
    assert await claim(queue, 1) == ["b1"]
    assert await claim(queue, 10) == ["a1", "a2", "a3", "a4"]


async def test_one_principals_collections_take_turns(services: Services) -> None:
    name = services.settings.queue_name
    first = [QueuedJob("er_upsert_batch", t(f"c1-{n}"), A, 100, "plant") for n in range(4)]
    await enqueue(services.redis, name, first, running_limit=None)
    await enqueue(
        services.redis,
        name,
        [QueuedJob("er_upsert_batch", t("c2-0"), A, 100, "site")],
        running_limit=None,
    )
    order = await claim(FairQueue(services.redis, name), 10)
    # The second collection's job waits for one of the first's, not for all four.
    assert order.index("c2-0") < order.index("c1-2")


async def test_a_deferred_job_waits_until_due_and_is_never_lost(services: Services) -> None:
    name = services.settings.queue_name
    await enqueue(
        services.redis,
        name,
        [QueuedJob("selftest", t(name), A) for name in ("early", "held")],
        running_limit=None,
    )
    queue = FairQueue(services.redis, name)
    await queue.defer([t("held")], timestamp_ms() + 60_000)
    assert await claim(queue, 10) == ["early"]
    assert await waiting_counts(services.redis, name) == (1, 1, 0)
    lost = await missing(services.redis, name, [t("held"), t("early"), t("gone")])
    assert lost == {t("gone")}
    await defer(services.redis, name, [t("held")], timestamp_ms())
    assert await claim(queue, 10) == ["held"]


async def test_a_principal_at_its_running_limit_waits_and_others_do_not(
    services: Services,
) -> None:
    name = services.settings.queue_name
    await enqueue(
        services.redis,
        name,
        [QueuedJob("selftest", t(f"a{n}"), A) for n in range(6)],
        running_limit=None,
    )
    await enqueue(services.redis, name, [QueuedJob("selftest", t("b0"), B)], running_limit=None)
    queue = FairQueue(services.redis, name)
    taken = await queue.claim(10, CLAIM_MS, 110, running_limit=2)
    assert sorted(names(taken.tokens)) == ["a0", "a1", "b0"]
    assert taken.held_back == {A: 4}
    assert await waiting_counts(services.redis, name) == (3, 0, 4)  # running ones stay queued
    # Parked jobs are still held by Redis: the reconciler must not queue them again.
    assert await missing(services.redis, name, [t(f"a{n}") for n in range(6)]) == set()
    assert await claim(queue, 10, limit=2) == []
    await finish(services, ["a0"])
    assert await claim(queue, 10, limit=2) == ["a2"]  # A's next, in A's order
    await finish(services, ["a1", "a2", "b0"])
    assert await claim(queue, 10, limit=2) == ["a3", "a4"]
    # A worker that died leaves no count behind: its claims lapse and its jobs run again.
    await services.redis.delete(*(in_progress_key_prefix + t(name) for name in ("a3", "a4")))
    assert await claim(queue, 10, limit=2) == ["a3", "a4"]


async def test_the_reconciler_leaves_parked_and_deferred_jobs_alone(services: Services) -> None:
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    noop = {"sleepSeconds": 0, "message": "", "fail": None}
    jobs = [await services.jobs.submit("selftest", principal, noop) for _ in range(3)]
    name = services.settings.queue_name
    queue = FairQueue(services.redis, name)
    taken = await queue.claim(3, CLAIM_MS, 100, running_limit=1)
    assert taken.tokens == [jobs[0].token] and taken.held_back == {principal.id: 2}
    await queue.defer([jobs[2].token], timestamp_ms() + 60_000)  # from its parked set
    passed = await reconcile_once(services.pool, services.redis, name, grace_s=0)
    assert passed.ran and passed.requeued == []
    assert sum(await waiting_counts(services.redis, name)) == 3


async def test_a_wake_names_jobs_only_where_fair_order_and_the_limit_cannot_tell(
    services: Services,
) -> None:
    # A named job is handed to one worker, which leases it past the claim script: only a queue
    # whose every job is claimed, and a principal with room, may have its jobs named. A named
    # enqueue wakes nobody else; any other wakes every idle worker, naming nothing.
    name = services.settings.queue_name
    wakes = services.redis.pubsub()
    await wakes.subscribe(wake_channel(name))
    await wakes.get_message(timeout=1)  # the subscription's own confirmation

    async def wake_after(jobs: list[QueuedJob], limit: int | None = 2) -> list[str]:
        await enqueue(services.redis, name, jobs, running_limit=limit)
        entry = await services.redis.lpop(Keys(name).handoff)
        # Published by the same script: by the time LPOP answers, a wake would be on its way.
        message = await wakes.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if entry is not None:
            assert message is None
            return names(wake_tokens(entry.decode()))
        assert message is not None and message["data"] in (b"", "")
        return []

    queue = FairQueue(services.redis, name)
    try:
        assert await wake_after([QueuedJob("selftest", t("a0"), A)]) == ["a0"]
        # a0 is not claimed yet: a job behind it may not skip it.
        assert await wake_after([QueuedJob("selftest", t("b0"), B)]) == []
        assert await wake_after([QueuedJob("selftest", t("c0"), B)], limit=None) == []
        assert await claim(queue, 10) == ["a0", "b0", "c0"]
        # Every queued job is claimed now; A has one running (named, so counted at once) of 2.
        assert await wake_after([QueuedJob("selftest", t("a1"), A)]) == ["a1"]
        await services.redis.set(in_progress_key_prefix + t("a1"), "1", px=CLAIM_MS)
        assert await wake_after([QueuedJob("selftest", t("a2"), A)]) == []  # A at its limit
    finally:
        await wakes.aclose()
