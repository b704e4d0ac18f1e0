from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from shared.jobs import JobWaiter
from shared.jobs.channels import done_channel, done_message
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
