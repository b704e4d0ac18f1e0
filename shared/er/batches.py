"""Accepting a batch of entities or relationships: the checks that refuse a whole batch, then
staging its items before the job that processes them (their ``Requested`` status logs are
written when first read, or by the chunk that processes them: migration 024)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import orjson
import structlog

from shared.auth import Principal
from shared.changefeed.announce import announce
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.batch_kinds import RELATIONSHIPS, BatchKind, BatchRequest
from shared.er.chunks import Generations, batch_result, judge_for, outcomes_for, writer_for
from shared.er.store import sync_batch as sync_batch_store
from shared.er.store import upserts as upserts_store
from shared.er.store import writes as writes_store
from shared.errors import BadRequest, PayloadTooLarge, error_for_status
from shared.jobs import JobRecord
from shared.jobs import store as jobs_store
from shared.jobs.model import JobState
from shared.jobs.service import IdempotencyKey, SubmitOptions, new_job_token
from shared.observability.metrics import count_finished_items, count_job
from shared.services import Services
from shared.statuslog import store as statuslog
from shared.statuslog.query import batch_tracker
from shared.tenancy.admission import admit
from shared.text import holds_unstorable_text

SYNC_LIMIT = 100
ASYNC_LIMIT = 10_000
MAX_ID_LENGTH = 512

log = structlog.get_logger(__name__)


def parse_items(body: Any, kind: BatchKind, is_async: bool) -> list[dict[str, Any]]:
    """What refuses a whole batch: not a list, too many items, an item without an id, or the
    same id twice. Everything else is judged item by item in the job."""
    if not isinstance(body, list):
        raise BadRequest(f"The body must be a JSON array of {kind.plural.lower()}")
    limit = ASYNC_LIMIT if is_async else SYNC_LIMIT
    if len(body) > limit:
        hint = "" if is_async else f"; send 'async: true' for up to {ASYNC_LIMIT}"
        raise PayloadTooLarge(
            f"At most {limit} {kind.plural.lower()} per call with async: "
            f"{str(is_async).lower()} (got {len(body)}){hint}"
        )
    if not body:
        raise BadRequest(f"The body lists no {kind.plural.lower()}")
    for index, item in enumerate(body):
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not 1 <= len(item_id) <= MAX_ID_LENGTH:
            raise BadRequest(
                f"Item {index} must be an object whose 'id' is a string of 1 to "
                f"{MAX_ID_LENGTH} characters"
            )
    repeated = [item_id for item_id, n in Counter(item["id"] for item in body).items() if n > 1]
    if repeated:
        raise BadRequest(f"These ids occur more than once in the batch: {', '.join(repeated)}")
    return body


def destination_names(items: list[dict[str, Any]], collection: ErCollection) -> set[str]:
    """Other collections the relationships point into (the caller must be able to read them)."""
    # Not a set of every value: a list or an object there is unhashable, and fails its item alone.
    named = (item.get("destinationERCollectionId") for item in items)
    return {n for n in named if isinstance(n, str) and n.lower() != collection.id.lower()}


@dataclass(frozen=True, slots=True)
class Submission:
    """One POST of a batch: who sends what into which collection, under which transaction."""

    principal: Principal
    kind: BatchKind
    collection_name: str
    items: list[dict[str, Any]]
    transaction_id: str
    correlation_id: str
    idempotency: IdempotencyKey | None = None


async def _prepare(services: Services, batch: Submission) -> tuple[BatchRequest, Generations]:
    """Check access (403); the request the batch job will get, and the types generation of each
    schema collection it names (for a batch run here: its type schemas may be in memory)."""
    collections = ErCollections(services.pool)
    principal_id = batch.principal.id
    collection = await collections.require(principal_id, batch.collection_name, Role.readwrite)
    named = {batch.collection_name: collection}
    if batch.kind is RELATIONSHIPS:
        destinations = destination_names(batch.items, collection)
        if destinations:  # most batches stay in one collection: no query for none
            named |= await collections.require_each(principal_id, destinations, Role.readonly)
    request = BatchRequest(
        transactionId=batch.transaction_id,
        correlationId=batch.correlation_id,
        itemKind=batch.kind.item_kind,
        itemCount=len(batch.items),
        erCollectionId=collection.id,
        schemaCollectionId=collection.schema_collection_id,
        collections={name: [c.id, c.schema_collection_id] for name, c in named.items()},
    )
    generations = {
        c.schema_collection_id: c.schema_generation
        for c in named.values()
        if c.schema_generation is not None
    }
    return request, generations


def encode_storable(items: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The items' chunks as JSON text, as they are staged; 400 if any text (keys included)
    cannot be stored. The encoder refuses lone surrogates and writes NUL as an escape, so only
    a batch it refuses or whose text holds that escape is walked item by item."""
    try:
        chunks = [(len(c), orjson.dumps(c).decode()) for c in writes_store.chunked(items)]
    except TypeError:  # a lone surrogate, or an integer beyond 64 bits
        chunks = []
    if not chunks or any("\\u0000" in text for _, text in chunks):
        if holds_unstorable_text(items):
            raise BadRequest("The batch holds text that cannot be stored (NUL or a lone surrogate)")
        chunks = chunks or writes_store.encode_chunks(items)
    return chunks


def _submit_options(services: Services, batch: Submission, request: BatchRequest) -> SubmitOptions:
    """The items and their Requested logs are written with the job row, in one transaction: a
    gateway that dies in between leaves nothing, or a job the reconciler will queue."""
    chunks = encode_storable(batch.items)

    async def stage(conn: asyncpg.Connection, job_token: str) -> None:
        await admit(conn, services.settings, batch.principal.id, job_token, len(batch.items))
        # The items' Requested records are written when first read (migration 024).
        await writes_store.stage_batch(
            conn, request.transactionId, request.erCollectionId, request.itemKind,
            chunks, job_token, request.correlationId,
        )  # fmt: skip

    async def refused(job: JobRecord) -> None:
        """The queue refused the job: say so in every item's log rather than leave it
        Requested, and drop the staged items."""
        reason = "The job queue is unavailable"
        async with services.pool.acquire() as conn, conn.transaction():
            # Removing the batch writes its items' Requested records first: then they fail.
            await writes_store.delete_batch(conn, request.transactionId)
            await statuslog.fail_unfinished(conn, request.transactionId, request.itemKind, reason)

    return SubmitOptions(idempotency=batch.idempotency, stage=stage, on_refused=refused)


async def accept_async(services: Services, batch: Submission) -> JobRecord:
    """Stage the batch and queue its job; the caller answers 202 at once. A replayed
    Idempotency-Key gives the first job back, with its own transaction."""
    request, _ = await _prepare(services, batch)
    options = _submit_options(services, batch, request)
    return await services.jobs.submit(
        batch.kind.job_kind, batch.principal, asdict(request), cost=len(batch.items),
        fair_group=request.erCollectionId, **options,
    )  # fmt: skip


def accepted_json(public_url: str, job_token: str, transaction_id: str) -> dict[str, str]:
    """The 202's data: the job to poll and the tracker of the whole batch."""
    return {
        "token": job_token,
        "tracker": batch_tracker(public_url, transaction_id),
        "statusUrl": f"{public_url}/async/get/{job_token}",
    }


async def run_batch_here(services: Services, batch: Submission) -> dict[str, Any]:
    """Run a small batch here, in one transaction that records its job, writes its items and
    their whole status logs, and completes the job: ``{message, responses}``.

    No staging, no queue, no worker: each item is still validated, written and logged exactly
    as a batch job does, the job row still answers Idempotency-Key replays, and a failure
    anywhere (an outage included) leaves nothing behind."""
    request, generations = await _prepare(services, batch)
    encode_storable(batch.items)
    kind, public_url = batch.kind, services.settings.public_url
    if batch.idempotency is None:  # a key's first job is looked for in the transaction below
        ran_here = await _run_in_one_statement(services, batch, request, generations)
        if ran_here is not None:
            return await _announced(services, request, kind, *ran_here)

    # This call's outcomes and answer, by the job token it ran as: only the job that committed
    # counts (a key raced in by a concurrent request rolls this one back, and answers with its
    # own job). The answer is not parsed back from the job row.
    ran: dict[str, tuple[list[statuslog.ItemOutcome], dict[str, Any]]] = {}

    async def record(conn: asyncpg.Connection, outcomes: list[statuslog.ItemOutcome]) -> None:
        await statuslog.insert_outcomes(
            conn, request.transactionId, request.correlationId, request.erCollectionId,
            kind.item_kind, outcomes,
        )  # fmt: skip

    async def run(conn: asyncpg.Connection, job_token: str) -> dict[str, Any]:
        outcomes = await writer_for(request, kind, generations)(conn, batch.items, record)
        ran[job_token] = (outcomes, batch_result(kind, request, outcomes, public_url))
        return ran[job_token][1]

    job = await services.jobs.run_here(
        kind.job_kind, batch.principal, asdict(request), run, idempotency=batch.idempotency
    )
    if job.state is not JobState.COMPLETE:
        raise error_for_status(job.error_status or 500, job.error_message or "Job failed")
    if job.token not in ran:  # a replay: the first job's answer
        return job.result  # type: ignore[no-any-return]
    return await _announced(services, request, kind, *ran[job.token])


async def _run_in_one_statement(
    services: Services, batch: Submission, request: BatchRequest, generations: Generations
) -> tuple[list[statuslog.ItemOutcome], dict[str, Any]] | None:
    """The batch's look-ups, then its rows, logs and job in one statement outside a transaction
    block (shared/er/store/sync_batch.py): four round trips in all instead of eight. None if
    the upsert would have skipped a row: nothing is written, and the caller runs the batch in a
    transaction, which records that item as failed."""
    began, kind = time.monotonic(), batch.kind
    token, request_json = new_job_token(), asdict(request)
    async with services.pool.acquire() as conn:
        rows, failures = await judge_for(request, kind, generations)(conn, batch.items)
        outcomes = outcomes_for(kind, batch.items, failures)
        answer = batch_result(kind, request, outcomes, services.settings.public_url)
        upsert_args = upserts_store.upsert_args(
            request.erCollectionId, request.transactionId, rows, kind.item_kind
        )
        outcome_args = [
            request.transactionId, request.correlationId, request.erCollectionId, kind.item_kind,
            *statuslog.outcome_columns(outcomes),
        ]  # fmt: skip
        job_args = jobs_store.completed_job_args(
            token, kind.job_kind, batch.principal.id, request_json, answer
        )
        if not await sync_batch_store.write_batch(
            conn, kind.item_kind, upsert_args, outcome_args, job_args, len(rows)
        ):
            return None
    count_job(kind.job_kind, JobState.COMPLETE.value, time.monotonic() - began)
    log.info("job complete", job_token=token, job_kind=kind.job_kind, ran_in="gateway")
    return outcomes, answer


async def _announced(
    services: Services,
    request: BatchRequest,
    kind: BatchKind,
    written: list[statuslog.ItemOutcome],
    answer: dict[str, Any],
) -> dict[str, Any]:
    """After the commit: wake the change feed's readers, count the items."""
    await announce(services.redis, services.settings.queue_name, [request.erCollectionId])
    count_finished_items(kind.item_kind, len(written), sum(not outcome.ok for outcome in written))
    return answer
