"""The type-schemas store's rows as types (shared/schemas/store/typeschemas.py and the lists
of shared/schemas/store/lists.py), so mypy checks every column a caller reads (a misspelt
column is a type error, not a KeyError at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TypeSchemaRow:
    """One version of a type schema as reads show it (``SCHEMA_COLUMNS``)."""

    type_id: str
    version: int
    collection_id: str
    schema_type: str  # entitytypes, relationshiptypes, messagetypes or eventtypes
    schema: Any  # the author's JSON, as posted or released
    content_sha256: str
    metadata: dict[str, Any]
    tags: list[str]
    is_current: bool
    active: bool
    release_version: str | None
    created_at: datetime
    created_by_name: str | None  # None: written by no principal (a release sync's seed)
    state: str  # new | published
    correlation_id: str | None
    state_changed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """What a write compares a type's current version with."""

    type_id: str
    version: int
    schema_type: str
    content_sha256: str
    active: bool
    release_version: str | None


@dataclass(frozen=True, slots=True)
class CurrentSchema:
    """A type's current, active version, as the ER writes check items against it."""

    type_id: str
    version: int
    collection_id: str
    schema_type: str
    schema: Any
    content_sha256: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TypeMetadata:
    """An active type's id and metadata (its class, ancestors, parents or pairs)."""

    type_id: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SchemaCollectionRow:
    """A schema collection as reads show it (``COLLECTION_COLUMNS``)."""

    id: str
    namespace: str  # the upper-cased id, prefixing every type id it generates
    release_line: str
    pinned_version: str | None  # None: it follows the line's newest release
    release_version: str | None
    synced_versions: dict[str, str]  # the release each schema type was last synced to
    created_at: datetime
    updated_at: datetime
    created_by_name: str
    id_key: str | None = None  # a page selects it, its order


@dataclass(frozen=True, slots=True)
class NewSchemaCollection:
    id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SchemaTypeCounts:
    """A schema collection's types of one schema type: current ones by state, and versions."""

    schema_type: str
    active: int
    inactive: int
    versions: int
