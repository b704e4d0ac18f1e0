"""The batch job: validate and write a staged batch chunk by chunk, then answer with every item.

Each chunk is one transaction that writes its rows and its items' final status logs together,
so a job run again after a crash skips the items already finished and redoes only the rest:
no duplicate rows, no second final log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import asyncpg

from shared.er import store
from shared.er.batches import KINDS, BatchKind, BatchRequest
from shared.er.items import (
    EntityContext,
    RelationshipContext,
    check_entity,
    check_relationship,
    destination_collection,
)
from shared.er.validation import ItemRejected
from shared.errors import BrickyardError, JobCancelled
from shared.jobs.runner import JobContext
from shared.observability.metrics import count_items
from shared.schemas.catalog import TypeSchema, current_type_schemas
from shared.statuslog import store as statuslog
from shared.statuslog.query import batch_tracker, item_tracker
from shared.statuslog.store import Outcome, State

CHUNK_SIZE = 1000
CONCURRENT_CHANGE = "The stored item changed while this batch ran; send the item again"

Item = dict[str, Any]


class ChunkWriter(Protocol):
    async def __call__(self, conn: asyncpg.Connection, chunk: list[Item]) -> list[Outcome]: ...


def judge(chunk: list[Item], check: Callable[[Item], Any]) -> tuple[list[Any], dict[str, Outcome]]:
    """Rows for the items that pass, failures (by id) for the others."""
    rows, failures = [], {}
    for item in chunk:
        try:
            rows.append(check(item))
        except ItemRejected as rejection:
            failures[item["id"]] = Outcome(item["id"], State.FAILED, rejection.message)
    return rows, failures


def outcomes_for(
    kind: BatchKind, chunk: list[Item], written: set[str], failures: dict[str, Outcome]
) -> list[Outcome]:
    """Every item of the chunk in order: its failure, or whether the upsert wrote it."""
    completed = f"{kind.singular} upserted successfully"

    def outcome(item_id: str) -> Outcome:
        if item_id in failures:
            return failures[item_id]
        if item_id in written:
            return Outcome(item_id, State.COMPLETED, completed)
        return Outcome(item_id, State.FAILED, CONCURRENT_CHANGE)

    return [outcome(item["id"]) for item in chunk]


async def type_schemas(
    db: asyncpg.Pool, request: BatchRequest, schema_type: str, field: str, items: list[Item]
) -> dict[str, TypeSchema]:
    named = {item.get(field) for item in items}
    wanted = [name for name in named if isinstance(name, str)]
    return await current_type_schemas(db, request.schemaCollectionId, schema_type, wanted)


async def entity_writer(job: JobContext, request: BatchRequest, items: list[Item]) -> ChunkWriter:
    types = await type_schemas(job.pool, request, "entitytypes", "entityType", items)

    async def write(conn: asyncpg.Connection, chunk: list[Item]) -> list[Outcome]:
        ids = [item["id"] for item in chunk]
        stored = await store.stored_entities(conn, request.erCollectionId, ids)
        context = EntityContext(request.schemaCollectionId, types, stored)
        rows, failures = judge(chunk, lambda item: check_entity(item, context))
        written = await store.upsert_entities(
            conn, request.erCollectionId, request.transactionId, rows
        )
        return outcomes_for(KINDS["entity"], chunk, written, failures)

    return write


async def relationship_writer(
    job: JobContext, request: BatchRequest, items: list[Item]
) -> ChunkWriter:
    types = await type_schemas(job.pool, request, "relationshiptypes", "relationshipType", items)
    collections = {name: (ids[0], ids[1]) for name, ids in request.collections.items()}
    entity_schemas: dict[tuple[str, str], TypeSchema] = {}  # grows chunk by chunk

    async def write(conn: asyncpg.Connection, chunk: list[Item]) -> list[Outcome]:
        context = RelationshipContext(
            request.erCollectionId, request.schemaCollectionId, collections, types
        )
        context.entity_types = await store.entity_types_of(conn, entity_refs(chunk, context))
        await load_entity_schemas(conn, context, entity_schemas)
        context.entity_schemas = entity_schemas
        ids = [item["id"] for item in chunk]
        context.stored = await store.stored_relationships(conn, request.erCollectionId, ids)
        rows, failures = judge(chunk, lambda item: check_relationship(item, context))
        written = await store.upsert_relationships(
            conn, request.erCollectionId, request.transactionId, rows
        )
        return outcomes_for(KINDS["relationship"], chunk, written, failures)

    return write


def entity_refs(chunk: list[Item], context: RelationshipContext) -> set[tuple[str, str]]:
    """The (collection, entity) pairs the chunk's relationships point at."""
    refs = set()
    for item in chunk:
        source, destination = item.get("sourceEntityId"), item.get("destinationEntityId")
        if isinstance(source, str):
            refs.add((context.collection_id, source))
        if isinstance(destination, str):
            try:
                refs.add((destination_collection(item, context), destination))
            except ItemRejected:
                pass  # the item fails on its own later, with this reason
    return refs


async def load_entity_schemas(
    conn: asyncpg.Connection,
    context: RelationshipContext,
    known: dict[tuple[str, str], TypeSchema],
) -> None:
    """Add the schemas (for class lineages) of the entity types this chunk meets to ``known``."""
    missing: dict[str, set[str]] = {}
    for (collection_id, _), entity_type in context.entity_types.items():
        schema_collection_id = context.schema_collection_of(collection_id)
        if (schema_collection_id, entity_type) not in known:
            missing.setdefault(schema_collection_id, set()).add(entity_type)
    for schema_collection_id, entity_types in missing.items():
        found = await current_type_schemas(conn, schema_collection_id, "entitytypes", entity_types)
        for type_id, type_schema in found.items():
            known[(schema_collection_id, type_id)] = type_schema


def batch_result(
    kind: BatchKind, request: BatchRequest, outcomes: list[Outcome], public_url: str
) -> dict[str, Any]:
    """The 207 body's data (and the async job's result): every item, in the order sent."""
    success, failure = [], []
    for outcome in outcomes:
        tracker = item_tracker(public_url, kind.item_kind, outcome.item_id, request.transactionId)
        entry = {"id": outcome.item_id, "message": outcome.message, "tracker": tracker}
        (success if outcome.ok else failure).append(entry)
    message = f"Total number of {kind.plural} Upserted:  {len(success)}."
    if failure:
        message += f" Failed:  {len(failure)}."
    return {
        "transactionId": request.transactionId,
        "tracker": batch_tracker(public_url, request.transactionId),
        "message": message,
        "responses": {"success": success, "failure": failure},
    }


async def upsert_batch(job: JobContext) -> dict[str, Any]:
    request = BatchRequest.from_json(job.request)
    return await write_batch(job, request, KINDS[request.itemKind])


async def settle_ended_batch(job: JobContext, error: BrickyardError) -> None:
    """The batch job ended without a result (failed, given up, cancelled): no item may stay
    Requested or Processing for ever, and its staged items are no longer needed.

    (A worker shutting down is no end: the job runs again elsewhere.)
    """
    request = BatchRequest.from_json(job.request)
    cancelled = isinstance(error, JobCancelled)
    reason = "cancelled" if cancelled else f"The batch job failed: {error.message}"
    async with job.pool.acquire() as conn, conn.transaction():
        await statuslog.fail_unfinished(
            conn, request.transactionId, KINDS[request.itemKind].item_kind, reason
        )
        await store.delete_batch(conn, request.transactionId)


async def write_batch(job: JobContext, request: BatchRequest, kind: BatchKind) -> dict[str, Any]:
    transaction_id = request.transactionId
    items = await store.load_batch(job.pool, transaction_id)
    if items is None:
        raise BrickyardError(f"The items of batch {transaction_id} are no longer staged")
    finished = await statuslog.final_outcomes(job.pool, transaction_id, kind.item_kind)
    pending = [item for item in items if item["id"] not in finished]
    make_writer = entity_writer if kind.item_kind == "entity" else relationship_writer
    write = await make_writer(job, request, pending)
    done, total = len(finished), len(items)
    for start in range(0, len(pending), CHUNK_SIZE):
        chunk = pending[start : start + CHUNK_SIZE]
        ids = [item["id"] for item in chunk]
        await statuslog.mark_processing(job.pool, transaction_id, kind.item_kind, ids)
        async with job.pool.acquire() as conn, conn.transaction():
            outcomes = await write(conn, chunk)
            await statuslog.record_outcomes(conn, transaction_id, kind.item_kind, outcomes)
        count_items(kind.item_kind, len(outcomes), sum(not outcome.ok for outcome in outcomes))
        done += len(chunk)
        await job.progress(done, total, f"{done} of {total} {kind.plural.lower()} processed")
    async with job.pool.acquire() as conn, conn.transaction():
        outcomes = await statuslog.outcomes_in_order(conn, transaction_id, kind.item_kind)
        result = batch_result(kind, request, outcomes, job.settings.public_url)
        await store.delete_batch(conn, transaction_id)
        await job.complete_in(conn, result)
    return result
