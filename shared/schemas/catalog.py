"""Read access to type schemas for other services (the ER service validates against these).

This is the contract between the schema service and its readers: keep its signatures stable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.db import Executor
from shared.schemas.store import typeschemas as typeschemas_store


@dataclass(frozen=True, slots=True)
class TypeSchema:
    type_id: str
    version: int
    collection_id: str
    schema_type: str
    schema: dict[str, Any]
    content_sha256: str
    metadata: dict[str, Any]

    @property
    def class_name(self) -> str:
        """Entity types: the class without namespace (``AHU`` for ``BRICK_1_4__AHU``)."""
        return self.metadata.get("class") or self.type_id.split("__", 1)[-1]

    @property
    def lineage(self) -> set[str]:
        """Entity types: the class and every ancestor class, namespace-free."""
        return {self.class_name, *self.metadata.get("ancestors", [])}

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Relationship types: the allowed (source class, destination class) pairs."""
        return [(p["source"], p["destination"]) for p in self.metadata.get("pairs", [])]

    def allows(self, source: TypeSchema, destination: TypeSchema) -> bool:
        """Whether this relationship type admits entities of these two entity types."""
        source_lineage, destination_lineage = source.lineage, destination.lineage
        return any(s in source_lineage and d in destination_lineage for s, d in self.pairs)


async def current_type_schemas(
    db: Executor,
    collection_id: str,
    schema_type: str,
    type_ids: Iterable[str],
) -> dict[str, TypeSchema]:
    """The current, active schema of each named type in one schema collection (absent: unknown)."""
    rows = await typeschemas_store.current_of_types(
        db, collection_id, schema_type, list(set(type_ids))
    )
    return {row["type_id"]: TypeSchema(**dict(row)) for row in rows}
