"""The registry's rows as types: what each store read returns, so mypy checks every field a
caller reads (a misspelt column is a type error, not a KeyError at run time)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Named(Protocol):
    """What an access check names: an organization's id and name."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    name: str
    created_by: int
    created_at: datetime
    acl_etag: uuid.UUID
    acl_changed_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class AclEntry:
    principal_id: int
    access_types: list[str]


@dataclass(frozen=True, slots=True)
class Schema:
    id: int
    name: str
    created_by: int
    created_at: datetime
    organization_id: int
    organization_name: str

    @property
    def organization(self) -> OrganizationRef:
        return OrganizationRef(self.organization_id, self.organization_name)


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema's ``id`` and ``name`` as first registered (the upsert's answer)."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    semantic_version: str | None
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    organization_id: int
    organization_name: str
    schema_id: int
    schema_name: str
    version_id: int
    semantic_version: str | None
    sha256_hex: str
    created_at: datetime
    created_by: int

    @property
    def id(self) -> int:
        """The key lists page by."""
        return self.version_id
