"""Rules (which entity types a relationship type joins) and an entity type's Brick metadata.

Metadata holds namespace-free class names (``AHU``); answers name type ids. A class maps to
the collection's entity type of that class, else (generated, namespaced ids) to
``<NAMESPACE>__<class>``, else stays as it is (hand-made ids such as ``Brick:Location``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.db import Executor
from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest
from shared.releases.catalog import ReleaseCatalog
from shared.schemas.render import ENTITY_TYPES, RELATIONSHIP_TYPES
from shared.schemas.rows import TypeMetadata, TypeSchemaRow
from shared.schemas.store import collections as collections_store
from shared.schemas.store import typeschemas as typeschemas_store
from shared.schemas.typeschemas import TypeSchemas

Page = tuple[list[Any], dict[str, Any]]


async def class_ids(db: Executor, row: TypeSchemaRow, classes: Iterable[str]) -> dict[str, str]:
    """Each class as a type id of the collection ``row`` (a type schema) belongs to."""
    wanted = sorted(set(classes))
    found = await typeschemas_store.class_ids(db, row.collection_id, wanted)
    namespace = await collections_store.namespace(db, row.collection_id)
    namespaced = row.type_id.startswith(f"{namespace}__")
    return {c: found.get(c) or (f"{namespace}__{c}" if namespaced else c) for c in wanted}


def offset_page(items: list[Any], page: PageRequest) -> Page:
    start = page.after if isinstance(page.after, int) else 0
    if page.after is not None and not isinstance(page.after, int):
        raise BadRequest("The continuationToken is not valid for this list")
    return page.page(len(items), items[start : start + page.fetch], lambda _: start + page.size)


def lineage(row: TypeSchemaRow | TypeMetadata) -> set[str]:
    metadata = row.metadata
    return {metadata.get("class") or row.type_id, *metadata.get("ancestors", [])}


@dataclass(slots=True)
class Rules:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    @property
    def types(self) -> TypeSchemas:
        return TypeSchemas(self.pool, self.catalog)

    async def pairs(self, type_id: str, page: PageRequest) -> Page:
        """getRulesForRelationship: the (source, destination) entity types it allows."""
        row = await self.types.get(RELATIONSHIP_TYPES, type_id)
        pairs = row.metadata.get("pairs", [])
        if not pairs:
            raise NotFound(f"No active rules for relationship type '{type_id}'")
        ids = await class_ids(self.pool, row, [c for p in pairs for c in p.values()])
        mapped = [{"source": ids[p["source"]], "destination": ids[p["destination"]]} for p in pairs]
        return offset_page(mapped, page)

    async def relationship_types_of(
        self, type_id: str, page: PageRequest, *, source: bool, destination: bool
    ) -> Page:
        """getRulesForEntity: each relationship type that admits the entity type at an end it
        asks for, with the pairs that do (``roles``: Brickyard's, which ends they are)."""
        if not (source or destination):
            raise BadRequest("includeSource and includeDestination cannot both be false")
        row = await self.types.get(ENTITY_TYPES, type_id)
        classes = lineage(row)
        matches = []
        rel_types = await typeschemas_store.current_relationship_types(self.pool, row.collection_id)
        for rel in rel_types:
            pairs = rel.metadata.get("pairs", [])
            as_source = [p for p in pairs if source and p["source"] in classes]
            as_destination = [p for p in pairs if destination and p["destination"] in classes]
            admitted = [p for p in pairs if p in as_source or p in as_destination]
            if admitted:
                roles = [
                    r for r, hit in (("source", as_source), ("destination", as_destination)) if hit
                ]
                matches.append((rel.type_id, admitted, roles))
        if not matches:
            raise NotFound(f"No active rules for entity type '{type_id}'")
        ids = await class_ids(
            self.pool, row, [c for _, ps, _ in matches for p in ps for c in p.values()]
        )
        found = [
            {
                "relationshipType": rel_id,
                "sourceDestinationPairs": [
                    {"source": ids[p["source"]], "destination": ids[p["destination"]]} for p in ps
                ],
                "roles": roles,
            }
            for rel_id, ps, roles in matches
        ]
        return offset_page(found, page)

    async def brick_metadata(self, type_id: str) -> dict[str, Any]:
        """getMetadata: the entity type's place in its ontology."""
        row = await self.types.get(ENTITY_TYPES, type_id)
        metadata = row.metadata
        class_name = metadata.get("class") or type_id
        top, parents = metadata.get("topClass") or class_name, metadata.get("parents", [])
        ancestors = metadata.get("ancestors", [])
        ids = await class_ids(self.pool, row, [top, *parents, *ancestors])
        descendants = await typeschemas_store.descendants(self.pool, row.collection_id, class_name)
        name = row.schema.get("properties", {}).get("brickEntityName", {})
        label = name.get("default") if isinstance(name, dict) else None
        return {
            "brickMetadata": {
                "brickDescendantEntityTypes": descendants,
                "brickAncestorEntityTypes": [ids[a] for a in ancestors],
                "brickEntityType": ids[top] if top != class_name else type_id,
                "brickEntitySubType": type_id,
                "brickTags": row.tags,
                "brickEntityName": label if isinstance(label, str) else class_name,
                "brickParentEntityTypes": [ids[p] for p in parents],
                "definition": metadata.get("definition"),
                "deprecated": metadata.get("deprecated", False),
            }
        }
