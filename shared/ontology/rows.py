"""The ontology store's rows as types (shared/ontology/store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ActiveType:
    """An active type of a schema collection, as the graph is built from it."""

    type_id: str
    schema_type: str  # entitytypes | relationshiptypes | ...
    metadata: dict[str, Any]
    name: str | None  # its schema's default brickEntityName, if it has one


@dataclass(frozen=True, slots=True)
class Freshness:
    """A collection's types generation beside the one its graph was built at (None: no graph)."""

    wanted: UUID
    built: UUID | None
    namespace: str


@dataclass(frozen=True, slots=True)
class OntologyObjectRow:
    """An ontology object with the top type and name of its two ends (None: no such type)."""

    object_id: str
    relation: str
    relation_type_id: str
    source_id: str
    destination_id: str
    inverse_relation: str | None
    source_top: str | None
    source_name: str | None
    destination_top: str | None
    destination_name: str | None
