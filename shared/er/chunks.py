"""Judging and writing one chunk of a batch inside the caller's transaction, and the batch's
answer. Used by the batch jobs (a chunk at a time) and by synchronous batches (one chunk).

A chunk costs a fixed handful of statements whatever its size: the type schemas it has not met
yet, the stored rows it may replace (and, for relationships, the entities at both ends), one
upsert. Everything else is in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg

from shared.er import store
from shared.er.items import (
    EntityContext,
    RelationshipContext,
    check_entity,
    check_relationship,
    destination_collection,
)
from shared.er.validation import ItemRejected
from shared.schemas.catalog import TypeSchema, current_type_schemas
from shared.statuslog.query import batch_tracker, item_tracker
from shared.statuslog.store import Outcome, State

if TYPE_CHECKING:
    from shared.er.batches import BatchKind, BatchRequest

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
    completed = Outcome("", State.COMPLETED, f"{kind.singular} upserted successfully")
    outcomes = []
    for item in chunk:
        item_id = item["id"]
        if item_id in failures:
            outcomes.append(failures[item_id])
        elif item_id in written:
            outcomes.append(Outcome(item_id, completed.state, completed.message))
        else:
            outcomes.append(Outcome(item_id, State.FAILED, CONCURRENT_CHANGE))
    return outcomes


class TypeSchemas:
    """The current schemas of the types a batch names, fetched as chunks first name them."""

    def __init__(self, schema_collection_id: str, schema_type: str, field: str) -> None:
        self._collection, self._type, self._field = schema_collection_id, schema_type, field
        self.known: dict[str, TypeSchema] = {}
        self._missing: set[str] = set()

    async def load(self, conn: asyncpg.Connection, chunk: Iterable[Item]) -> dict[str, TypeSchema]:
        named = {item.get(self._field) for item in chunk}
        new = [n for n in named if isinstance(n, str) and n not in self.known]
        new = [n for n in new if n not in self._missing]
        if new:
            found = await current_type_schemas(conn, self._collection, self._type, new)
            self.known |= found
            self._missing |= set(new) - found.keys()
        return self.known


def entity_writer(request: BatchRequest, kind: BatchKind) -> ChunkWriter:
    schemas = TypeSchemas(request.schemaCollectionId, "entitytypes", "entityType")

    async def write(conn: asyncpg.Connection, chunk: list[Item]) -> list[Outcome]:
        types = await schemas.load(conn, chunk)
        ids = [item["id"] for item in chunk]
        stored = await store.stored_entities(conn, request.erCollectionId, ids)
        context = EntityContext(request.schemaCollectionId, types, stored)
        rows, failures = judge(chunk, lambda item: check_entity(item, context))
        written = await store.upsert_entities(
            conn, request.erCollectionId, request.transactionId, rows
        )
        return outcomes_for(kind, chunk, written, failures)

    return write


def relationship_writer(request: BatchRequest, kind: BatchKind) -> ChunkWriter:
    schemas = TypeSchemas(request.schemaCollectionId, "relationshiptypes", "relationshipType")
    collections = {name: (ids[0], ids[1]) for name, ids in request.collections.items()}
    entity_schemas: dict[tuple[str, str], TypeSchema] = {}  # grows chunk by chunk

    async def write(conn: asyncpg.Connection, chunk: list[Item]) -> list[Outcome]:
        types = await schemas.load(conn, chunk)
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
        return outcomes_for(kind, chunk, written, failures)

    return write


def writer_for(request: BatchRequest, kind: BatchKind) -> ChunkWriter:
    make = entity_writer if kind.item_kind == "entity" else relationship_writer
    return make(request, kind)


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
