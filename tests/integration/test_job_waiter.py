from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

from shared.jobs import JobRecord, JobState, JobWaiter, store
from shared.jobs.channels import done_channel, done_message
from shared.jobs.recorder import OutcomeRecorder
from shared.jobs.store import JobOutcome
from shared.services import Services


async def test_one_done_announcement_wakes_the_waiters_of_every_job_in_it(
    services: Services,
) -> None:
    # The recorder announces a whole batch of outcomes in one message: each waiter of a job in
    # it must look again at once, not at the end of its wait (60 s here).
    queue_name = services.settings.queue_name
    waiter = JobWaiter(services.redis, queue_name)
    await waiter.start()
    finished: set[str] = set()
    checks: dict[str, int] = {"a1": 0, "b2": 0, "c3": 0}
    all_looked = asyncio.Event()

    def check_for(token: str) -> Callable[[], Awaitable[str | None]]:
        async def check() -> str | None:
            checks[token] += 1
            if all(checks.values()):
                all_looked.set()
            return token if token in finished else None

        return check

    try:
        waits = [
            asyncio.create_task(waiter.wait(token, check_for(token), timeout_s=60))
            for token in checks
        ]
        await all_looked.wait()  # every waiter has looked once and now sleeps
        await asyncio.sleep(0)
        finished.update({"a1", "b2"})
        await services.redis.publish(done_channel(queue_name), done_message(["a1", "b2"]))
        async with asyncio.timeout(5):
            assert await asyncio.gather(*waits[:2]) == ["a1", "b2"]
        assert checks["c3"] == 1 and not waits[2].done()  # not in the message: not woken
        waits[2].cancel()
    finally:
        await waiter.stop()


async def test_a_carried_row_is_the_answer_and_a_fresh_job_is_not_read_first(
    services: Services,
) -> None:
    # A waiter that took a mark before its job was submitted knows the job has not finished
    # (nothing announced it since): it reads nothing, and the announcement's row is the answer.
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    queue_name = services.settings.queue_name
    waiter = JobWaiter(services.redis, queue_name)
    await waiter.start()
    reads: list[str] = []

    async def read() -> JobRecord | None:
        reads.append("read")
        return None

    try:
        mark = waiter.mark()
        job = await services.jobs.submit("selftest", principal, {"message": "hi"})
        waiting = asyncio.create_task(waiter.wait(job.token, read, 60, unfinished_at=mark))
        await asyncio.sleep(0.05)
        assert reads == [] and not waiting.done()
        row = dataclasses.replace(job, state=JobState.COMPLETE, result_json='{"echo":"hi"}')
        message = done_message([job.token], {job.token: row})
        await services.redis.publish(done_channel(queue_name), message)
        async with asyncio.timeout(5):
            assert await waiting == row
        assert reads == []
    finally:
        await waiter.stop()


async def test_a_job_announced_before_its_wait_began_is_read(services: Services) -> None:
    # The announcement came between the mark and the wait: the waiter remembers the token, so
    # it reads the job instead of sleeping until the timeout.
    queue_name = services.settings.queue_name
    waiter = JobWaiter(services.redis, queue_name)
    await waiter.start()
    try:
        mark = waiter.mark()
        await services.redis.publish(done_channel(queue_name), done_message(["a1"]))
        for _ in range(500):  # until the waiter has heard it
            if waiter.mark() != mark:
                break
            await asyncio.sleep(0.01)

        async def read() -> str:
            return "read"

        async with asyncio.timeout(5):
            assert await waiter.wait("a1", read, 60, unfinished_at=mark) == "read"  # type: ignore[arg-type]
    finally:
        await waiter.stop()


async def test_the_recorder_announces_the_committed_row(services: Services) -> None:
    # What the announcement carries is the row as PostgreSQL has it after the commit.
    principal = await services.auth.authenticate(await services.auth.create_token("al", ["view"]))
    queue_name = services.settings.queue_name
    waiter = JobWaiter(services.redis, queue_name)
    await waiter.start()
    recorder = OutcomeRecorder(services.pool, services.redis, queue_name, "worker-a")
    recorder.start()
    reads: list[str] = []

    async def read() -> JobRecord | None:
        reads.append("read")
        return None

    try:
        mark = waiter.mark()
        job = await services.jobs.submit("selftest", principal, {"message": "hi"})
        waiting = asyncio.create_task(waiter.wait(job.token, read, 60, unfinished_at=mark))
        await store.claim(services.pool, [job.token], "worker-a", 60)
        outcome = JobOutcome(job.token, JobState.FAILED, None, 409, "no", {"b": 1, "a": 2})
        assert await recorder.record(outcome)
        async with asyncio.timeout(5):
            carried = await waiting
        assert carried == await store.get(services.pool, job.token) and reads == []
        assert list(carried.error_details) == ["a", "b"]  # as jsonb keeps it, not as sent
    finally:
        await recorder.stop()
        await waiter.stop()
