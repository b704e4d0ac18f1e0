"""Paged lists of type schemas: all of a type, a collection's (all active versions), by tag,
by state, a type's versions, and a collection's titles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest, NotFound
from shared.paging import PageRequest
from shared.releases.catalog import ReleaseCatalog
from shared.schemas.collections import SchemaCollections
from shared.schemas.render import ENTITY_TYPES
from shared.schemas.rows import SchemaCollectionRow, TypeSchemaRow
from shared.schemas.store import lists as lists_store

STATES = ("new", "published")
Page = tuple[list[TypeSchemaRow], dict[str, Any]]


def state_of(value: str | None) -> str | None:
    if value is not None and value.lower() not in STATES:
        raise BadRequest(f"Unknown schema state '{value}'; states are {', '.join(STATES)}")
    return None if value is None else value.lower()


def keyset(after: Any, shape: type | tuple[type, ...]) -> Any:
    if after is not None and not isinstance(after, shape):
        raise BadRequest("The continuationToken is not valid for this list")
    return after


def type_and_version(after: Any) -> tuple[str, int]:
    position: list[Any] = keyset(after, list) or ["", 0]
    if len(position) != 2 or not isinstance(position[0], str) or not isinstance(position[1], int):
        raise BadRequest("The continuationToken is not valid for this list")
    return position[0], position[1]


@dataclass(slots=True)
class TypeLists:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    @property
    def collections(self) -> SchemaCollections:
        return SchemaCollections(self.pool, self.catalog)

    async def all_of_type(self, schema_type: str, state: str | None, page: PageRequest) -> Page:
        after = keyset(page.after, str) or ""
        rows, total = await lists_store.all_of_type(
            self.pool, schema_type, state, after, page.fetch
        )
        return page.page(total, rows, lambda row: row.type_id)

    async def ids_in_state(
        self, schema_type: str, state: str, page: PageRequest
    ) -> tuple[list[str], dict[str, Any]]:
        """getSchemaByState: the ids of active types whose current version is in ``state``."""
        rows, paging = await self.all_of_type(schema_type, state, page)
        return [row.type_id for row in rows], paging

    async def in_collection(
        self, schema_type: str, collection_id: str, state: str | None, page: PageRequest
    ) -> Page:
        """Every version of the collection's active types (the doc: "all versions")."""
        collection = await self.collections.get(collection_id)
        after = type_and_version(page.after)
        rows, total = await lists_store.active_versions(
            self.pool, collection.id, schema_type, state, after, page.fetch
        )
        return page.page(total, rows, lambda row: [row.type_id, row.version])

    async def titles(self, schema_type: str, collection_id: str) -> list[str]:
        collection = await self.collections.get(collection_id)
        return await lists_store.titles(self.pool, collection.id, schema_type)

    async def versions(self, schema_type: str, type_id: str, page: PageRequest) -> Page:
        total = await lists_store.count_versions(self.pool, type_id, schema_type)
        if not total:
            raise NotFound(f"No schema '{type_id}' among the {schema_type}")
        after = keyset(page.after, int) or 0
        rows = await lists_store.versions(self.pool, type_id, schema_type, after, page.fetch)
        return page.page(total, rows, lambda row: row.version)

    async def tagged(self, collection_id: str, tag: str, page: PageRequest) -> Page:
        collection = await self.collections.get(collection_id)
        canonical = await self.known_tag(collection, tag)
        after = type_and_version(page.after)
        rows, total = await lists_store.tagged(
            self.pool, collection.id, canonical, after, page.fetch
        )
        return page.page(total, rows, lambda row: [row.type_id, row.version])

    async def known_tag(self, collection: SchemaCollectionRow, tag: str) -> str:
        """The tag as the vocabulary spells it (case-insensitive match), or 400."""
        line = collection.release_line
        version = collection.synced_versions.get(ENTITY_TYPES) or collection.pinned_version
        versions = await self.catalog.versions(line)
        version = version or (versions[-1] if versions else None)
        vocabulary = set(await self.catalog.tags(line, version) or []) if version else set()
        vocabulary |= await lists_store.collection_tags(self.pool, collection.id)
        spelled = {t.lower(): t for t in vocabulary}
        if tag.lower() not in spelled:
            examples = ", ".join(sorted(vocabulary)[:5]) or "none yet: sync the collection first"
            raise BadRequest(f"Unknown tag '{tag}'; the collection's tags include {examples}")
        return spelled[tag.lower()]
