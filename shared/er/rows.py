"""The ER reads' rows as types: what each read of shared/er/store/reads.py (and the item reads
of files and graphs) returns, so mypy checks every column a caller reads (a misspelt column is
a type error, not a KeyError at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An entity or a relationship as reads select it (``item_columns``), current or kept."""

    id: str
    body: dict[str, Any]
    version: int
    transaction_id: str
    updated_at: datetime
    type_id: str
    # A relationship's other end (None: an entity, or a kept version: its ends are in its body).
    destination_collection_id: str | None = None
    deleted: bool = False  # a delete's tombstone among an item's versions (migration 029)
    distance: float | None = None  # a list ordered by distance


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphItemRow(ItemRow):
    """An item as graph reads select it: their rows span collections, so each names its own."""

    item_collection: str


@dataclass(frozen=True, slots=True)
class EntityTypeCount:
    type_id: str
    n: int
    assets: int
    spaces: int


@dataclass(frozen=True, slots=True)
class RelationshipTypeCount:
    type_id: str
    n: int
    across: int  # relationships into another collection


@dataclass(frozen=True, slots=True)
class Writer:
    """Who wrote one (item, transaction): ``SYSTEM_DATA``. Any column but the key may be
    unknown (a status log or a job since pruned)."""

    id: str
    transaction_id: str
    correlation_id: str | None
    requestor: str | None
    schema_version: int | None


@dataclass(frozen=True, slots=True)
class SchemaPlace:
    """A type's place in its schema collection, for version 1.2's ``schemaMetadata``."""

    type_id: str
    collection_id: str
    metadata: dict[str, Any] | None
    tags: list[str]


@dataclass(frozen=True, slots=True)
class BrickType:
    """A current type of a schema collection, as a Brick model needs it."""

    type_id: str
    schema_type: str  # entitytypes | relationshiptypes
    metadata: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EntityLine:
    """An entity as a Brick export writes it."""

    id: str
    entity_type: str
    name: str | None


@dataclass(frozen=True, slots=True)
class RelationshipLine:
    """A relationship as a Brick export writes it."""

    id: str
    relationship_type: str
    source_entity_id: str
    destination_collection_id: str
    destination_entity_id: str


@dataclass(frozen=True, slots=True)
class AroundEdge:
    """A relationship around the dashboard's chosen entities, with its other end's type and
    name (None: the other end is in another collection)."""

    relationship_type: str
    source_entity_id: str
    destination_entity_id: str
    other_type: str | None
    other_name: str | None


@dataclass(frozen=True, slots=True)
class CollectionRole:
    """An ER collection with one principal's role on it (None: no grant)."""

    id: str
    schema_collection_id: str
    created_by: int
    created_at: datetime
    role: str | None
    id_key: str | None = None  # a lookup by id key selects it
    schema_generation: UUID | None = None  # the schema collection's (migration 025), if read


@dataclass(frozen=True, slots=True)
class FailedItem:
    """An item an ER batch refused, kept with its reason (``er_failed_items``)."""

    transaction_id: str
    collection_id: str
    item_kind: str  # entity | relationship
    item_id: str
    position: int
    reason: str
    item: Any  # as sent: usually an object, but a refused item may be anything
    failed_at: datetime
    retried_in: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure(FailedItem):
    """A failed item as the failures workbench reads it, with its reason's group."""

    reason_key: str


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """The failed items of one reason."""

    reason_key: str
    reason: str
    n: int
    not_retried: int
    transactions: int
    last_failed_at: datetime


@dataclass(frozen=True, slots=True)
class ItemKey:
    """A relationship named across collections."""

    collection_id: str
    id: str
