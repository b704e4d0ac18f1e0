"""Finding the registered version an ``$id`` or ``$ref`` names (no semver: the latest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.db import Executor
from shared.errors import NotFound
from shared.registry import store
from shared.registry.ids import SchemaId


@dataclass(frozen=True, slots=True)
class ResolvedVersion:
    schema_pk: int
    organization_pk: int
    version_id: int
    pinned: bool  # named by its semantic version rather than as "the latest"
    body: dict[str, Any]


async def resolve(
    db: Executor, target: SchemaId, label: str, lock: store.Lock = ""
) -> ResolvedVersion:
    """The version ``target`` names, or a 404 that says which part was not found.

    ``label`` says what named it (``$id 'x'``, ``$ref 'x' at /properties/a``). With ``lock``,
    the schema row is locked so its latest version cannot change until the caller commits.
    """
    schema = await store.schema_by_name(db, target.organization, target.name, lock)
    if schema is None:
        if await store.organization_by_name(db, target.organization) is None:
            raise NotFound(
                f"{label}: organization '{target.organization}' not found "
                "(no registered schema has this $id)"
            )
        raise NotFound(
            f"{label}: schema '{target.organization}-{target.name}' not found "
            "(no registered schema has this $id)"
        )
    version = await store.version_of(db, schema.id, target.semantic_version)
    if version is None:
        raise NotFound(
            f"{label}: schema '{target.organization}-{target.name}' has no version "
            f"'{target.semantic_version}' (not found)"
        )
    return ResolvedVersion(
        schema_pk=schema.id,
        organization_pk=schema.organization_id,
        version_id=version.id,
        pinned=target.semantic_version is not None,
        body=version.body,
    )
