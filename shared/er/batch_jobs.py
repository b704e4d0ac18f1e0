"""The batch jobs: a staged batch's chunks, processed by as many workers as can help.

A batch's job (the parent) asks for helper jobs, then claims chunks itself until none is left
to claim, waits for the chunks others hold, and answers with every item. Helpers claim chunks
of the same batch until none is left; any worker process may run them. A chunk is one
transaction that writes its rows, its items' final status logs and its `done` mark together,
so a chunk interrupted by a crash leaves nothing and is processed again whole; one finished is
never processed again. Whatever ends the parent without a result (failure, cancel, giving up)
removes the batch, which waits for chunks in flight, and then fails every unfinished item.
"""

from __future__ import annotations

import asyncio
import functools
import os
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import structlog

from shared.changefeed.announce import announce
from shared.er.batch_kinds import KINDS, BatchKind, BatchRequest
from shared.er.chunks import ChunkWriter, batch_result, writer_for
from shared.er.fair_share import FairShare
from shared.er.store import writes as writes_store
from shared.errors import BrickyardError, JobCancelled, ServiceUnavailable
from shared.jobs.runner import JobContext
from shared.observability.metrics import count_finished_items
from shared.statuslog import store as statuslog
from shared.statuslog.store import ItemOutcome

HELPER_KIND = "help_er_batch"  # not er_*: only a batch's own job names its transaction
HELPERS = 3
# Chunks of one batch that one process works on at once: two overlap one chunk's validation
# with the other's SQL; more only contend for the same core.
PER_PROCESS = 2
WAIT_STEP_S = 0.02
MAX_HOPS = 3

log = structlog.get_logger(__name__)

_working: Counter[str] = Counter()  # transaction id -> chunk loops running in this process
# Chunk loops per principal, one share per event loop: a process runs one loop, but a share
# outliving its loop (a test's, or one stopped mid-batch) would hold slots no loop gives back.
_shares: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FairShare] = (
    weakref.WeakKeyDictionary()
)


def _share(per_principal: int) -> FairShare:
    loop = asyncio.get_running_loop()
    if loop not in _shares:
        _shares[loop] = FairShare(per_principal)
    return _shares[loop]


@dataclass(frozen=True, slots=True)
class HelperRequest:
    """A helper job's request: the parent's token and batch, and how often it was passed on."""

    parent: str
    batch: BatchRequest
    hops: int = 0

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HelperRequest:
        batch = BatchRequest.from_json(value["batch"])
        return cls(value["parent"], batch, value.get("hops", 0))

    def as_json(self) -> dict[str, Any]:
        return {"parent": self.parent, "batch": asdict(self.batch), "hops": self.hops}


async def upsert_batch(job: JobContext, request: BatchRequest) -> dict[str, Any]:
    """The parent: the batch's own job, whose result is the batch's answer."""
    kind = KINDS[request.itemKind]
    transaction_id = request.transactionId
    async with job.pool.acquire() as conn:
        staged = await writes_store.split_unsplit_batch(conn, transaction_id)
    if not staged:
        raise BrickyardError(f"The items of batch {transaction_id} are no longer staged")

    async def report() -> int:
        done, total, chunks_left = await writes_store.chunk_progress(job.pool, transaction_id)
        await job.progress(done, total, f"{done} of {total} {kind.plural.lower()} processed")
        return int(chunks_left)

    chunks_left = await report()
    if chunks_left > 1:
        await _ask_for_helpers(job, job.token, request, min(HELPERS, chunks_left - 1))

    write = writer_for(request, kind)
    while True:
        await _work_on(job, request, kind, write, report, limit=PER_PROCESS)
        if not await writes_store.await_chunks(job.pool, transaction_id):
            break
        await report()  # a cancel stops the wait here
        await asyncio.sleep(WAIT_STEP_S)  # a chunk is claimed but not yet locked, or abandoned
    async with job.pool.acquire() as conn, conn.transaction():
        outcomes = await statuslog.outcomes_in_order(conn, transaction_id, kind.item_kind)
        result = batch_result(kind, request, outcomes, job.settings.public_url)
        await writes_store.delete_batch(conn, transaction_id)
        await job.complete_in(conn, result)
    return result


async def help_batch(job: JobContext, helper: HelperRequest) -> dict[str, Any]:
    """A helper: claim chunks of the parent's batch until none is left to claim. One that
    lands in a process already busy with the batch queues a helper again instead (a few
    times), so that an idle worker process can take it."""
    request, parent, hops = helper.batch, helper.parent, helper.hops
    kind = KINDS[request.itemKind]
    write = writer_for(request, kind)
    if _working[request.transactionId] >= PER_PROCESS and hops < MAX_HOPS:
        await _ask_for_helpers(job, parent, request, 1, hops + 1)
        return {"parent": parent, "chunks": 0, "passedOn": True}

    async def no_report() -> int:
        return 0

    chunks = await _work_on(job, request, kind, write, no_report, limit=PER_PROCESS)
    # Which process helped: the fan-out test checks that chunks were shared among processes.
    return {"parent": parent, "chunks": chunks, "pid": os.getpid()}


async def _ask_for_helpers(
    job: JobContext, parent: str, request: BatchRequest, count: int, hops: int = 0
) -> None:
    """Helper jobs, queued like any other: the reconciler keeps them, cancels end them."""
    helper = HelperRequest(parent, request, hops)
    try:
        await job.queue(HELPER_KIND, helper.as_json(), count, fair_group=request.erCollectionId)
    except ServiceUnavailable:
        # The queue is down: helpers only speed a batch up, so it goes on without them.
        log.warning("no helper jobs for this batch; the queue refused them")


async def _work_on(
    job: JobContext,
    request: BatchRequest,
    kind: BatchKind,
    write: ChunkWriter,
    report: Callable[[], Awaitable[int]],
    limit: int,
) -> int:
    """Claim and process chunks in up to ``limit`` loops (fewer when this process already
    works on the batch or the principal's share is taken) until none is free; how many
    chunks this job processed."""
    transaction_id = request.transactionId
    wanted = max(0, min(limit, PER_PROCESS - _working[transaction_id]))
    share = _share(job.settings.chunk_loops_per_principal)
    loops = await share.take(job.principal_id, wanted)
    if not loops:
        return 0
    _working[transaction_id] += loops
    try:
        counts = await _together(
            [_claim_loop(job, request, kind, write, report) for _ in range(loops)]
        )
    finally:
        _working[transaction_id] -= loops
        if _working[transaction_id] <= 0:
            del _working[transaction_id]
        await share.give_back(job.principal_id, loops)
    return sum(counts)


async def _claim_loop(
    job: JobContext,
    request: BatchRequest,
    kind: BatchKind,
    write: ChunkWriter,
    report: Callable[[], Awaitable[int]],
) -> int:
    processed = 0
    transaction_id = request.transactionId
    while True:
        claimed = await writes_store.claim_chunk(job.pool, transaction_id, job.settings.job_lease_s)
        if claimed is None:
            return processed
        chunk_no, attempts = claimed
        async with job.pool.acquire() as conn, conn.transaction():
            locked = await writes_store.lock_chunk(conn, transaction_id, chunk_no)
            if locked is None:
                continue  # done meanwhile, or the batch ended
            items, first_position = locked
            await writes_store.finish_chunk(conn, transaction_id, chunk_no)

            record = functools.partial(
                _record,
                transaction_id=transaction_id,
                kind=kind,
                first_position=first_position,
                retry_count=attempts - 1,
            )
            outcomes = await write(conn, items, record)
        await announce(job.redis, job.settings.queue_name, [request.erCollectionId])
        count_finished_items(
            kind.item_kind, len(outcomes), sum(not outcome.ok for outcome in outcomes)
        )
        processed += 1
        await report()


async def _record(
    conn: asyncpg.Connection,
    outcomes: list[ItemOutcome],
    *,
    transaction_id: str,
    kind: BatchKind,
    first_position: int,
    retry_count: int,
) -> None:
    await statuslog.record_outcomes(
        conn, transaction_id, kind.item_kind, outcomes, first_position, retry_count
    )


async def _awaited(loop: Awaitable[int]) -> int:
    return await loop


async def _together(loops: list[Awaitable[int]]) -> list[int]:
    """Run the loops at once; the first failure stops the others and is raised as it is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(loop)) for loop in loops]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def settle_ended_batch(job: JobContext, request: BatchRequest, error: BrickyardError) -> None:
    """The batch job ended without a result (failed, given up, cancelled): no item may stay
    Requested for ever, and its staged items are no longer needed.

    Removing the batch first waits for any chunk in flight (it holds its chunk's row), so the
    items that chunk finished keep their outcome. (A worker shutting down is no end: the job
    runs again elsewhere.)
    """
    cancelled = isinstance(error, JobCancelled)
    reason = "cancelled" if cancelled else f"The batch job failed: {error.message}"
    async with job.pool.acquire() as conn, conn.transaction():
        await writes_store.delete_batch(conn, request.transactionId)
        await statuslog.fail_unfinished(
            conn, request.transactionId, KINDS[request.itemKind].item_kind, reason
        )
