"""The release catalog's rows as types (shared/releases/store.py): a stored release without
its bundle, which is read only when a release is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    release_line: str
    version: str
    origin: str  # builtin | published
    source_sha256: str  # a built-in release is generated again when its source changes
    tags: list[str]
    entity_type_count: int
    relationship_type_count: int
    created_at: datetime
