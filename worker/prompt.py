"""An arq worker that takes jobs in batches, starts them within milliseconds and never drops one.

What it changes in arq's ``Worker`` (pinned to arq 0.28, whose internals this subclasses):

- **Claiming**: one Lua script claims as many queued jobs as the worker has free slots, setting
  each job's in-progress key atomically, so workers never race for the same ids and one round
  trip starts many jobs, in the queue's fair order and within each principal's running-jobs
  limit (``shared.jobs.fair_queue``). PostgreSQL then leases them in one statement.
- **Pick-up**: when the queue held nothing else (so fair order cannot be broken), the enqueue
  hands the jobs to one idle worker (a Redis list that every worker with a free slot blocks
  on), which leases them in PostgreSQL straight away (one round trip before the handler, not
  the claim script's and then the lease's); any other enqueue publishes on a wake channel that
  every idle worker hears. A finished job frees its slot at once, so a worker claims from the
  queue again as soon as it can take more work.
- **Leases**: a running job's claim (in Redis and in PostgreSQL) is a short lease the worker
  renews while it lives; a dead worker's job is taken over once its lease runs out.
- **Outcomes**: written once each, in batches, retried through outages (``shared.jobs.recorder``).
- **Reconciling**: each worker runs the reconciler, one at a time per schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Mapping
from typing import Any

import structlog
from arq import Worker
from arq.connections import create_pool
from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms

from shared.jobs import store
from shared.jobs.channels import listen_forever, wake_channel, wake_tokens
from shared.jobs.fair_queue import FairQueue, waiting_counts
from shared.jobs.model import JobRecord, JobState
from shared.jobs.reconciler import Sweeper, reconcile_forever
from shared.jobs.recorder import OutcomeRecorder, forget_in_redis
from shared.jobs.runner import JobContext, JobKind, retry_through_outages, run_claimed
from shared.jobs.store import JobOutcome
from shared.observability.heartbeats import Heartbeat
from shared.observability.metrics import MetricsBuffer, bind_metrics
from shared.outages import backoff_delays, is_outage
from shared.services import Services

log = structlog.get_logger(__name__)

# How far past the jobs held (this worker's and others') a claim looks at the queue's front.
SCAN_PAST_RUNNING = 512
UNKNOWN_KIND = "unknown"
# Jobs per slot that may wait for their outcome's write while the slot runs the next one.
RECORDING_PER_SLOT = 2


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class PromptWorker(Worker):
    def __init__(
        self,
        *args: Any,
        job_kinds: Mapping[str, JobKind[Any]],
        lease_s: float = 10.0,
        wake_on_enqueue: bool = True,
        reconcile_interval_s: float = 5.0,
        sweepers: tuple[Sweeper, ...] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poll_delay", min(0.5, lease_s / 3))
        super().__init__(*args, **kwargs)
        self.job_kinds = dict(job_kinds)
        self.lease_s = lease_s
        self.wake_on_enqueue = wake_on_enqueue
        self.reconcile_interval_s = reconcile_interval_s
        self.sweepers = sweepers
        self.in_progress_timeout_s = lease_s
        self.worker_id = new_worker_id()
        self.contexts: dict[str, JobContext] = {}
        self._wake = asyncio.Event()
        # Set when a slot frees: a worker takes handoffs only while it has room for them.
        self._slot_freed = asyncio.Event()
        # What the next turn of the loop does: lease the jobs wake messages named, and claim
        # from the queue (at start, after each poll delay, when a slot frees, after a big enqueue).
        self._offered: list[str] = []
        self._claim_due = True
        # Whether the queue may hold jobs this worker could take that no wake offered it (so a
        # freed slot should claim from the queue): false after a claim found fewer than asked.
        self._queue_may_hold = True
        self._marking: set[asyncio.Task[None]] = set()
        self._started = 0
        self.metrics = MetricsBuffer()

    @property
    def services(self) -> Services:
        return self.ctx["services"]  # type: ignore[no-any-return]

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await retry_through_outages(self._connect_redis, "connecting to Redis")
        self.ctx["redis"] = self.pool
        on_startup = self.on_startup
        if on_startup:
            await retry_through_outages(lambda: on_startup(self.ctx), "worker start-up")
        self.fair_queue = FairQueue(self.pool, self.queue_name)
        self.recorder = OutcomeRecorder(
            self.services.pool, self.pool, self.queue_name, self.worker_id
        )
        self.recorder.start()
        heartbeat = Heartbeat(self)
        helpers = [
            asyncio.create_task(self._renew_leases_forever()),
            asyncio.create_task(heartbeat.beat_forever()),
        ]
        if self.wake_on_enqueue:
            helpers.append(asyncio.create_task(self._listen_for_wakeups()))
            helpers.append(asyncio.create_task(self._take_handoffs()))
        if self.reconcile_interval_s > 0:
            helpers.append(asyncio.create_task(self._reconcile()))
        log.info("worker started", worker_id=self.worker_id, kinds=sorted(self.job_kinds))
        try:
            await self._loop()
        finally:
            for helper in helpers:
                helper.cancel()
            for helper in helpers:
                with contextlib.suppress(asyncio.CancelledError):
                    await helper
            await self.recorder.stop()
            await heartbeat.farewell()

    async def _connect_redis(self) -> Any:
        return await create_pool(self.redis_settings, default_queue_name=self.queue_name)

    async def _loop(self) -> None:
        delays = backoff_delays()
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            self._wake.clear()
            offered, self._offered = self._offered, []
            from_queue, self._claim_due = self._claim_due or loop.time() >= next_poll, False
            try:
                claimed_all = False
                if offered:
                    await self._lease_offered(offered)
                if from_queue:
                    # Every poll delay at the latest, however many wakes come between: jobs
                    # whose leases ran out (a dead worker's) are in the queue, unannounced.
                    next_poll = loop.time() + self.poll_delay_s
                    asked = self._free_slots() > 0
                    claimed_all = await self._claim_and_start()
                    # Fewer than asked for: nothing more at the queue's front for now.
                    self._queue_may_hold = claimed_all or not asked
                delays = backoff_delays()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                # Offered jobs are still queued: claim them once the dependency answers.
                self._claim_due = self._queue_may_hold = True
                log.warning("cannot take jobs while a dependency is down", error=repr(exc))
                await asyncio.sleep(next(delays))
                continue
            if self.burst and await self._burst_finished():
                return
            if claimed_all and self._free_slots():
                self._claim_due = True
                continue  # the queue may hold more than we asked for
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_poll - loop.time()))

    def _free_slots(self) -> int:
        # A slot is a running handler: a job whose outcome waits for the recorder no longer
        # holds one, so claims go on while outcomes are written (up to a bound, which keeps
        # a stalled recorder from taking ever more jobs it cannot finish).
        free = min(
            self.max_jobs - len(self.contexts),
            self.max_jobs * RECORDING_PER_SLOT - len(self.tasks),
        )
        if self.burst and self.max_burst_jobs >= 0:
            free = min(free, self.max_burst_jobs - self._started)
        return max(0, free) if self.allow_pick_jobs else 0

    async def _claim_and_start(self) -> bool:
        """Claim and start up to the free slots' worth of jobs; True when all slots were filled."""
        wanted = self._free_slots()
        if not wanted:
            return False
        claim = await self.fair_queue.claim(
            wanted,
            int(self.lease_s * 1000),
            wanted + len(self.tasks) + SCAN_PAST_RUNNING,
            self.services.settings.running_jobs_per_principal,
        )
        self.metrics.held_back(claim.held_back)
        claimed_ids = claim.tokens
        # A claim that lapsed while this worker was too busy to renew it is still this
        # worker's job: never start a second run of it here.
        tokens = [token for token in claimed_ids if token not in self.tasks]
        if not tokens:
            return bool(claimed_ids) and len(claimed_ids) == wanted
        try:
            records = await store.claim(self.services.pool, tokens, self.worker_id, self.lease_s)
        except BaseException:
            # Nothing runs: let the jobs go at once instead of when their claims run out.
            with contextlib.suppress(Exception):
                await self.pool.delete(*(in_progress_key_prefix + t for t in tokens))
            raise
        claimed = {record.token for record in records}
        if len(claimed) < len(tokens):
            await self._settle_unclaimed([t for t in tokens if t not in claimed])
        for record in records:
            self._start(record)
        return len(claimed_ids) == wanted

    async def _lease_offered(self, offered: list[str]) -> None:
        """Lease the jobs a wake message named straight in PostgreSQL, without claiming them in
        Redis first: one round trip before their handlers start instead of two.

        PostgreSQL grants each lease to one worker (every idle worker hears the wake and tries;
        a row another transaction holds locked, the winner's lease, is skipped, not waited on);
        a job it does not grant here (leased by another worker, finished, locked) is left
        alone: it stays queued for the usual claim. The winner marks its jobs claimed in
        Redis without waiting, so that claims from the queue pass them by, as the claim script
        would have done; until then a worker that claims one anyway is refused by PostgreSQL
        and puts it back, so it never runs twice."""
        tokens = [token for token in dict.fromkeys(offered) if token not in self.tasks]
        if len(tokens) > self._free_slots():
            # The rest wait in the queue for a slot: the next freed slot claims from it.
            self._queue_may_hold = True
            tokens = tokens[: self._free_slots()]
        if not tokens:
            return
        records = await store.lease_offered(
            self.services.pool, tokens, self.worker_id, self.lease_s
        )
        for record in records:
            self._start(record)
        if records:
            marking = asyncio.create_task(self._mark_claimed([r.token for r in records]))
            self._marking.add(marking)
            marking.add_done_callback(self._marking.discard)

    async def _mark_claimed(self, tokens: list[str]) -> None:
        lease_ms = int(self.lease_s * 1000)
        try:
            async with self.pool.pipeline(transaction=False) as pipe:
                for token in tokens:
                    pipe.psetex(in_progress_key_prefix + token, lease_ms, b"1")
                await pipe.execute()
        except Exception as exc:
            # The next renewal sets them; meanwhile PostgreSQL's lease keeps the job single.
            if not is_outage(exc):
                raise
            log.warning("could not mark leased jobs claimed in Redis", error=repr(exc))

    async def _settle_unclaimed(self, tokens: list[str]) -> None:
        """Queued jobs PostgreSQL would not lease: finished ones leave the queue; one that a
        live worker still holds (Redis lost its claim) waits until that lease has run out."""
        elsewhere = await store.leased_elsewhere(self.services.pool, tokens)
        await forget_in_redis(
            self.pool, self.queue_name, [t for t in tokens if t not in elsewhere], announce=True
        )
        if elsewhere:
            later = timestamp_ms() + int(self.lease_s * 1000)
            await self.fair_queue.defer(sorted(elsewhere), later)

    def _start(self, record: JobRecord) -> None:
        services = self.services
        context = JobContext(record, services.pool, self.pool, services.settings)
        self.contexts[record.token] = context
        task = asyncio.create_task(self._run(context))
        self.tasks[record.token] = task
        self._started += 1
        task.add_done_callback(lambda _: self._job_done(record.token))

    def current_jobs(self) -> dict[str, str]:
        return {token: context.job.kind for token, context in self.contexts.items()}

    def _job_done(self, token: str) -> None:
        self.tasks.pop(token, None)
        self.contexts.pop(token, None)
        self._slot_freed.set()
        if self._queue_may_hold or self.burst:  # a burst checks whether it has finished
            self._claim_due = True
            self._wake.set()

    async def _run(self, context: JobContext) -> None:
        bind_metrics(self.metrics)  # this job's task only
        began = time.monotonic()
        kind = self.job_kinds.get(context.job.kind)
        if kind is None:
            outcome = JobOutcome(
                context.token,
                JobState.FAILED,
                None,
                500,
                f"No worker runs jobs of kind '{context.job.kind}'",
            )
            log.error(
                "job ended",
                job_token=context.token,
                job_kind=context.job.kind,
                state=outcome.state.value,
                status=outcome.error_status,
                reason=outcome.error_message,
            )
        else:
            outcome = await run_claimed(context, kind)
        # The handler is done: from here on only the outcome's write holds the job.
        self.contexts.pop(context.token, None)
        self._slot_freed.set()
        if outcome.state is JobState.COMPLETE:
            self.jobs_complete += 1
        else:
            self.jobs_failed += 1
        # A kind no worker runs is a stored string of anyone's making: one label for all of them.
        label = context.job.kind if kind is not None else UNKNOWN_KIND
        self.metrics.job_finished(label, outcome.state.value, time.monotonic() - began)
        if context.job.attempts > 1:
            self.metrics.job_retried(label)
        await self.recorder.record(outcome, written=context.recorded)

    async def _burst_finished(self) -> bool:
        # Running jobs stay queued until their outcome is recorded, so an empty queue and no
        # running job means every job the burst could see has ended.
        if self.tasks:
            return False
        # Deferred jobs, and those parked at their principal's limit, are still to run.
        return 0 <= self.max_burst_jobs <= self._started or not sum(
            await waiting_counts(self.pool, self.queue_name)
        )

    async def _renew_leases_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            for renew in (self._renew_claims, self._renew_leases):
                try:
                    await renew()
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    log.warning("could not renew leases", error=repr(exc))

    async def _renew_claims(self) -> None:
        """Every job this worker holds, its outcome still being recorded included, stays
        claimed in Redis so no other worker takes it from the queue."""
        if not self.tasks:
            return
        lease_ms = int(self.lease_s * 1000)
        async with self.pool.pipeline(transaction=False) as pipe:
            for token in self.tasks:
                pipe.psetex(in_progress_key_prefix + token, lease_ms, b"1")
            await pipe.execute()

    async def _renew_leases(self) -> None:
        """Jobs whose handlers run: renew their leases, stop those lost, pass on cancels."""
        tokens = list(self.contexts)
        if not tokens:
            return
        held = await store.renew_leases(self.services.pool, tokens, self.worker_id, self.lease_s)
        for token in tokens:
            context, task = self.contexts.get(token), self.tasks.get(token)
            if context is None or task is None:
                continue
            if token not in held:
                # Another worker owns the job now; this run must stop so it never runs twice.
                log.warning("lease lost; stopping the job here", job_token=token)
                task.cancel()
            elif held[token]:
                context.cancel_requested = True

    async def _listen_for_wakeups(self) -> None:
        await listen_forever(
            self.pool, wake_channel(self.queue_name), self._woken, self._resubscribed
        )

    async def _take_handoffs(self) -> None:
        """Block on the handoff list while a slot is free: each entry (the jobs one enqueue
        named) reaches exactly one worker, so the others neither wake nor try a lease that
        finds nothing. An entry lost on its way (this worker stopping, a lost connection) only
        delays its jobs: they are in the queue, and the next poll claims them."""
        delays = backoff_delays()
        key = self.fair_queue.keys.handoff
        while True:
            while not self._free_slots():
                self._slot_freed.clear()
                await self._slot_freed.wait()
            try:
                # By name: redis-py types BLPOP's timeout as whole seconds (Redis 6 takes any).
                blpop = self.pool.execute_command
                popped = await blpop("BLPOP", key, self.poll_delay_s)  # type: ignore[no-untyped-call]
            except Exception as exc:
                if not is_outage(exc):
                    raise
                log.warning("could not take handed-off jobs", error=repr(exc))
                await asyncio.sleep(next(delays))
                continue
            delays = backoff_delays()
            if popped:
                entry = popped[1]
                self._woken(entry.decode() if isinstance(entry, bytes) else str(entry))

    def _woken(self, message: str) -> None:
        tokens = wake_tokens(message)
        if tokens:
            self._offered.extend(tokens)
        else:
            self._claim_due = self._queue_may_hold = True
        self._wake.set()

    def _resubscribed(self) -> None:
        # Wake messages sent while the subscription was down are lost: look at the queue.
        self._claim_due = self._queue_may_hold = True
        self._wake.set()

    async def _reconcile(self) -> None:
        await reconcile_forever(
            self.services.pool, self.pool, self.queue_name, self.reconcile_interval_s, self.sweepers
        )
