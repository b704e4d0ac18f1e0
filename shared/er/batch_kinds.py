"""What an ER batch is of (entities or relationships, and the job that processes each), and
the request its job gets: shared by accepting a batch (batches.py), writing its chunks
(chunks.py) and the batch jobs (batch_jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BatchKind:
    item_kind: str  # as stored in status logs: entity | relationship
    job_kind: str  # the worker task that processes the batch
    singular: str
    plural: str


ENTITIES = BatchKind("entity", "er_upsert_entities", "Entity", "Entities")
RELATIONSHIPS = BatchKind(
    "relationship", "er_upsert_relationships", "Relationship", "Relationships"
)
KINDS = {kind.item_kind: kind for kind in (ENTITIES, RELATIONSHIPS)}


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """A batch job's request: where its items are staged, never the items themselves."""

    transactionId: str
    correlationId: str
    itemKind: str
    itemCount: int
    erCollectionId: str
    schemaCollectionId: str
    # Every collection the items name (as named) -> [collection id, its schema collection].
    collections: dict[str, list[str]]

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> BatchRequest:
        return cls(**value)
