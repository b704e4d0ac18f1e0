"""Judging and writing one chunk of a batch inside the caller's transaction, and the batch's
answer. Used by the batch jobs (a chunk at a time) and by synchronous batches (one chunk).

A chunk costs a fixed handful of statements whatever its size: the type schemas it has not met
yet, the stored rows it may replace (and, for relationships, the entities at both ends), one
upsert. Everything else is in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from shared.er.batch_kinds import BatchKind, BatchRequest
from shared.er.file_type import with_file_type
from shared.er.items import (
    EntityContext,
    RelationshipContext,
    check_entity,
    check_relationship,
    destination_collection,
)
from shared.er.store import upserts as upserts_store
from shared.er.store import writes as writes_store
from shared.er.validation import ItemRejected
from shared.schemas.catalog import TypeSchema, current_type_schemas
from shared.statuslog import store as statuslog
from shared.statuslog.query import batch_tracker, item_tracker
from shared.statuslog.store import ItemOutcome, State

CONCURRENT_CHANGE = "The stored item changed while this batch ran; send the item again"

Item = dict[str, Any]


# Records a chunk's outcomes in the status log, in the chunk's transaction.
Record = Callable[[asyncpg.Connection, list[ItemOutcome]], Awaitable[None]]


class ChunkWriter(Protocol):
    async def __call__(
        self, conn: asyncpg.Connection, chunk: list[Item], record: Record
    ) -> list[ItemOutcome]: ...


# Judges a chunk: the rows of the items that pass, and the others' failures by id.
Judged = tuple[list[Any], dict[str, ItemOutcome]]


def judge(chunk: list[Item], check: Callable[[Item], Any]) -> Judged:
    """Rows for the items that pass, failures (by id) for the others."""
    rows, failures = [], {}
    for item in chunk:
        try:
            rows.append(check(item))
        except ItemRejected as rejection:
            failures[item["id"]] = ItemOutcome(item["id"], State.FAILED, rejection.message)
    return rows, failures


def outcomes_for(
    kind: BatchKind, chunk: list[Item], failures: dict[str, ItemOutcome]
) -> list[ItemOutcome]:
    """Every item of the chunk in order: its failure, or completed."""
    completed = f"{kind.singular} upserted successfully"
    return [
        failures.get(item["id"]) or ItemOutcome(item["id"], State.COMPLETED, completed)
        for item in chunk
    ]


async def record_and_write(
    conn: asyncpg.Connection,
    kind: BatchKind,
    transaction_id: str,
    chunk: list[Item],
    judged: Judged,
    upsert: Callable[[list[Any]], Awaitable[set[str]]],
    record: Record,
) -> list[ItemOutcome]:
    """The logs first, then the rows: the upsert comes last in the transaction because the
    change feed's triggers hold their collection's counter until commit, and other chunks of
    the collection wait for it. A row the upsert's guard skipped (another batch created it
    differently meanwhile) has its log corrected before anything commits."""
    rows, failures = judged
    outcomes = outcomes_for(kind, chunk, failures)
    await record(conn, outcomes)
    written = await upsert(rows)
    skipped = [row.id for row in rows if row.id not in written]
    if skipped:
        await statuslog.correct_to_failed(
            conn, transaction_id, kind.item_kind, skipped, CONCURRENT_CHANGE
        )
        lost = set(skipped)
        outcomes = [
            ItemOutcome(o.item_id, State.FAILED, CONCURRENT_CHANGE) if o.item_id in lost else o
            for o in outcomes
        ]
    return outcomes


# Schema collection id -> its types generation as the batch's caller read it (migration 025).
Generations = Mapping[str, UUID]


class BatchTypeSchemas:
    """The current schemas of the types a batch names, fetched as chunks first name them."""

    def __init__(
        self, schema_collection_id: str, schema_type: str, field: str, generation: UUID | None
    ) -> None:
        self._collection, self._type, self._field = schema_collection_id, schema_type, field
        self._generation = generation
        self.known: dict[str, TypeSchema] = {}
        self._missing: set[str] = set()

    async def load(self, conn: asyncpg.Connection, chunk: Iterable[Item]) -> dict[str, TypeSchema]:
        # Strings only: a list or an object there is unhashable, and its item fails alone later.
        named = {n for item in chunk if isinstance(n := item.get(self._field), str)}
        new = [n for n in named if n not in self.known]
        new = [n for n in new if n not in self._missing]
        if new:
            found = await current_type_schemas(
                conn, self._collection, self._type, new, self._generation
            )
            self.known |= found
            self._missing |= set(new) - found.keys()
        return self.known


class ChunkJudge(Protocol):
    async def __call__(self, conn: asyncpg.Connection, chunk: list[Item]) -> Judged: ...


def entity_judge(request: BatchRequest, generations: Generations) -> ChunkJudge:
    schemas = BatchTypeSchemas(
        request.schemaCollectionId, "entitytypes", "entityType",
        generations.get(request.schemaCollectionId),
    )  # fmt: skip

    async def judge_chunk(conn: asyncpg.Connection, chunk: list[Item]) -> Judged:
        types = await schemas.load(conn, chunk)
        named = {t for item in chunk if isinstance(t := item.get("entityType"), str)}
        types = with_file_type(types, request.schemaCollectionId, named)
        ids = [item["id"] for item in chunk]
        stored = await writes_store.stored_entities(conn, request.erCollectionId, ids)
        context = EntityContext(request.schemaCollectionId, types, stored)
        return judge(chunk, lambda item: check_entity(item, context))

    return judge_chunk


def relationship_judge(request: BatchRequest, generations: Generations) -> ChunkJudge:
    schemas = BatchTypeSchemas(
        request.schemaCollectionId, "relationshiptypes", "relationshipType",
        generations.get(request.schemaCollectionId),
    )  # fmt: skip
    collections = {name: (ids[0], ids[1]) for name, ids in request.collections.items()}
    entity_schemas: dict[tuple[str, str], TypeSchema] = {}  # grows chunk by chunk
    pairs: dict[tuple[str, int, int], dict[str, str] | str] = {}  # judged once per batch

    async def judge_chunk(conn: asyncpg.Connection, chunk: list[Item]) -> Judged:
        types = await schemas.load(conn, chunk)
        context = RelationshipContext(
            request.erCollectionId, request.schemaCollectionId, collections, types, pairs=pairs
        )
        ids = [item["id"] for item in chunk]
        context.entity_types, context.stored = await writes_store.relationship_lookups(
            conn, request.erCollectionId, entity_refs(chunk, context), ids
        )
        await load_entity_schemas(conn, context, entity_schemas, generations)
        context.entity_schemas = entity_schemas
        return judge(chunk, lambda item: check_relationship(item, context))

    return judge_chunk


def judge_for(
    request: BatchRequest, kind: BatchKind, generations: Generations | None = None
) -> ChunkJudge:
    """A batch's chunk judge (it keeps what it learnt of types from chunk to chunk).
    ``generations`` (a batch run where it is accepted) lets it take type schemas this process
    read at those generations from memory."""
    make = entity_judge if kind.item_kind == "entity" else relationship_judge
    return make(request, generations or {})


def writer_for(
    request: BatchRequest, kind: BatchKind, generations: Generations | None = None
) -> ChunkWriter:
    """A batch's chunk writer: its judge, then the logs and the rows."""
    judge_chunk = judge_for(request, kind, generations)
    upsert_rows = upserts_store.UPSERTS[kind.item_kind]

    async def write(
        conn: asyncpg.Connection, chunk: list[Item], record: Record
    ) -> list[ItemOutcome]:
        judged = await judge_chunk(conn, chunk)

        async def upsert(rows: list[Any]) -> set[str]:
            return await upsert_rows(conn, request.erCollectionId, request.transactionId, rows)

        return await record_and_write(
            conn, kind, request.transactionId, chunk, judged, upsert, record
        )

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
    generations: Generations,
) -> None:
    """Add the schemas (for class lineages) of the entity types this chunk meets to ``known``."""
    missing: dict[str, set[str]] = {}
    for (collection_id, _), entity_type in context.entity_types.items():
        schema_collection_id = context.schema_collection_of(collection_id)
        if (schema_collection_id, entity_type) not in known:
            missing.setdefault(schema_collection_id, set()).add(entity_type)
    for schema_collection_id, entity_types in missing.items():
        found = await current_type_schemas(
            conn, schema_collection_id, "entitytypes", entity_types,
            generations.get(schema_collection_id),
        )  # fmt: skip
        found = with_file_type(found, schema_collection_id, entity_types)
        for type_id, type_schema in found.items():
            known[(schema_collection_id, type_id)] = type_schema


def batch_result(
    kind: BatchKind, request: BatchRequest, outcomes: list[ItemOutcome], public_url: str
) -> dict[str, Any]:
    """The 207 body's data (and the async job's result): every item, in the order sent."""
    success: list[dict[str, str]] = []
    failure: list[dict[str, str]] = []
    tracker_of = item_tracker  # one look-up, not one per item
    for outcome in outcomes:
        tracker = tracker_of(public_url, kind.item_kind, outcome.item_id, request.transactionId)
        entry = {"id": outcome.item_id, "message": outcome.message, "tracker": tracker}
        (success if outcome.state is State.COMPLETED else failure).append(entry)
    message = f"Total number of {kind.plural} Upserted:  {len(success)}."
    if failure:
        message += f" Failed:  {len(failure)}."
    return {
        "transactionId": request.transactionId,
        "tracker": batch_tracker(public_url, request.transactionId),
        "message": message,
        "responses": {"success": success, "failure": failure},
    }
