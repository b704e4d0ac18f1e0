"""An arq worker that starts jobs within milliseconds and notices dead peers quickly.

arq polls its queue every ``poll_delay`` (0.5 s by default) and keeps a job claimed for its
whole timeout plus 10 s. Here the gateway publishes on a wake channel after each enqueue, so
an idle worker starts the job at once; and a running job's claim is a short lease that the
worker renews while it lives, so a job whose worker died is taken over within one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from arq import Worker
from arq.connections import create_pool
from arq.constants import in_progress_key_prefix

from shared.jobs.channels import listen_forever, wake_channel

log = structlog.get_logger(__name__)


class PromptWorker(Worker):
    def __init__(
        self, *args: Any, lease_s: float = 10.0, wake_on_enqueue: bool = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("poll_delay", min(0.5, lease_s / 3))
        super().__init__(*args, **kwargs)
        self.lease_s = lease_s
        self.wake_on_enqueue = wake_on_enqueue
        self.in_progress_timeout_s = lease_s
        self._wake = asyncio.Event()
        self._last_renewal = 0.0

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await create_pool(
                self.redis_settings,
                job_deserializer=self.job_deserializer,
                job_serializer=self.job_serializer,
                default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )
        log.info("worker starting", functions=sorted(self.functions), queue=self.queue_name)
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        listener = asyncio.create_task(
            self._listen_for_wakeups() if self.wake_on_enqueue else asyncio.Event().wait()
        )
        try:
            while True:
                self._wake.clear()
                await self._poll_iteration()
                await self._renew_leases()
                if self.burst and await self._burst_finished():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_delay_s)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _burst_finished(self) -> bool:
        if 0 <= self.max_burst_jobs <= self._jobs_started() or not await self.pool.zcard(
            self.queue_name
        ):
            await asyncio.gather(*self.tasks.values())
            return True
        return False

    async def _renew_leases(self) -> None:
        now = asyncio.get_running_loop().time()
        if not self.tasks or now - self._last_renewal < self.lease_s / 3:
            return
        self._last_renewal = now
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in self.tasks:
                pipe.pexpire(in_progress_key_prefix + job_id, int(self.lease_s * 1000))
            await pipe.execute()

    async def _listen_for_wakeups(self) -> None:
        await listen_forever(
            self.pool, wake_channel(self.queue_name), lambda _token: self._wake.set()
        )
