"""A principal's share of a worker process's chunk loops."""

from __future__ import annotations

import asyncio

from shared.er.fair_share import FairShare


async def test_a_principal_over_its_share_waits_and_another_starts_at_once() -> None:
    share = FairShare(per_principal=2)
    assert await share.take(1, 2) == 2
    assert await share.take(1, 2, wait_s=0.01) == 0  # its share is taken
    assert await share.take(2, 5) == 2  # another principal's is not
    waiting = asyncio.create_task(share.take(1, 2, wait_s=5))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await share.give_back(1, 1)
    assert await asyncio.wait_for(waiting, 1) == 1
    assert share.running(1) == 2


async def test_loops_given_back_free_the_share_entirely() -> None:
    share = FairShare(per_principal=2)
    assert await share.take(7, 1) == 1
    await share.give_back(7, 1)
    assert share.running(7) == 0
    assert await share.take(7, 3) == 2
