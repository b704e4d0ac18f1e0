"""Entity-type and relationship-type schemas: bulk writes, reads, lists, tag queries, pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.errors import BadRequest, NotFound, PayloadTooLarge
from shared.releases.catalog import ReleaseCatalog
from shared.schemas import store
from shared.schemas.collections import SchemaCollections, iso
from shared.schemas.paging import PageRequest
from shared.schemas.render import ENTITY_TYPES, RELATIONSHIP_TYPES, check_posted
from shared.schemas.versions import Outcome, write_versions

MAX_BULK = 1000
LABELS = {ENTITY_TYPES: "entity type", RELATIONSHIP_TYPES: "relationship type"}
Page = tuple[list[dict[str, Any]], dict[str, Any]]


def item_json(row: asyncpg.Record, include_system_data: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"schema": row["schema"]}
    if include_system_data:
        item["sysData"] = {
            "typeId": row["type_id"],
            "version": row["version"],
            "schemaCollectionId": row["collection_id"],
            "schemaType": row["schema_type"],
            "active": row["active"],
            "isCurrent": row["is_current"],
            "release": row["release_version"],
            "tags": row["tags"],
            "metadata": row["metadata"],
            "contentSha256": row["content_sha256"],
            "createdBy": row["created_by_name"],
            "createdOn": iso(row["created_at"]),
        }
    return item


def _keyset(after: Any, shape: type | tuple[type, ...]) -> Any:
    if after is not None and not isinstance(after, shape):
        raise BadRequest("The continuationToken is not valid for this list")
    return after


@dataclass(slots=True)
class TypeSchemas:
    pool: asyncpg.Pool
    catalog: ReleaseCatalog

    @property
    def collections(self) -> SchemaCollections:
        return SchemaCollections(self.pool, self.catalog)

    async def bulk_upsert(
        self, collection_id: str | None, schema_type: str, body: Any, principal: Principal
    ) -> Outcome:
        if not collection_id:
            raise BadRequest("The 'schemaCollectionId' header is required")
        if not isinstance(body, list) or not body:
            raise BadRequest("The request body must be a non-empty JSON array of schemas")
        if len(body) > MAX_BULK:
            raise PayloadTooLarge(f"At most {MAX_BULK} schemas per request")
        collection = await self.collections.get(collection_id)
        rendered = [check_posted(collection["namespace"], schema_type, s) for s in body]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(store.LOCK_COLLECTION, collection["id"])
            return await write_versions(
                conn, collection["id"], schema_type, rendered, principal_id=principal.id
            )

    async def get(
        self, schema_type: str, type_id: str, version: str | None = None
    ) -> asyncpg.Record:
        """The current active version, or the named version (any state)."""
        number = None
        if version is not None:
            if not (version.isascii() and version.isdigit()) or not 1 <= int(version) < 2**31:
                raise BadRequest("A schema version is a whole number from 1")
            number = int(version)
        row = await self.pool.fetchrow(store.GET_TYPE, type_id, schema_type, number)
        if row is None or (number is None and not row["active"]):
            what = f"version {version} of " if version else "active "
            raise NotFound(f"No {what}{LABELS[schema_type]} '{type_id}'")
        return row

    async def versions(self, schema_type: str, type_id: str, page: PageRequest) -> Page:
        total = await self.pool.fetchval(store.COUNT_VERSIONS, type_id, schema_type)
        if not total:
            raise NotFound(f"No schema '{type_id}' among the {schema_type}")
        after = _keyset(page.after, int) or 0
        rows = await self.pool.fetch(store.PAGE_VERSIONS, type_id, schema_type, after, page.fetch)
        return page.page(total, rows, lambda row: row["version"])

    async def in_collection(self, schema_type: str, collection_id: str, page: PageRequest) -> Page:
        collection = await self.collections.get(collection_id)
        after = _keyset(page.after, str) or ""
        args = (collection["id"], schema_type)
        rows = await self.pool.fetch(store.PAGE_CURRENT, *args, after, page.fetch)
        total = await self.pool.fetchval(store.COUNT_CURRENT, *args)
        return page.page(total, rows, lambda row: row["type_id"])

    async def tagged(self, collection_id: str, tag: str, page: PageRequest) -> Page:
        collection = await self.collections.get(collection_id)
        canonical = await self.known_tag(collection, tag)
        after = _keyset(page.after, list) or ["", 0]
        if len(after) != 2 or not isinstance(after[0], str) or not isinstance(after[1], int):
            raise BadRequest("The continuationToken is not valid for this list")
        args = (collection["id"], canonical)
        rows = await self.pool.fetch(store.PAGE_TAGGED, *args, *after, page.fetch)
        total = await self.pool.fetchval(store.COUNT_TAGGED, *args)
        return page.page(total, rows, lambda row: [row["type_id"], row["version"]])

    async def known_tag(self, collection: asyncpg.Record, tag: str) -> str:
        """The tag as the vocabulary spells it (case-insensitive match), or 400."""
        line = collection["release_line"]
        version = collection["synced_versions"].get(ENTITY_TYPES) or collection["pinned_version"]
        versions = await self.catalog.versions(line)
        version = version or (versions[-1] if versions else None)
        vocabulary = set(await self.catalog.tags(line, version) or []) if version else set()
        vocabulary |= {r[0] for r in await self.pool.fetch(store.COLLECTION_TAGS, collection["id"])}
        spelled = {t.lower(): t for t in vocabulary}
        if tag.lower() not in spelled:
            examples = ", ".join(sorted(vocabulary)[:5]) or "none yet: sync the collection first"
            raise BadRequest(f"Unknown tag '{tag}'; the collection's tags include {examples}")
        return spelled[tag.lower()]

    async def delete(self, schema_type: str, type_id: str) -> None:
        """Mark every version of an active type inactive (the history stays readable)."""
        row = await self.get(schema_type, type_id)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(store.LOCK_COLLECTION, row["collection_id"])
            await conn.execute(store.SET_ACTIVE, [type_id], False)
            await conn.execute(store.TOUCH_COLLECTION, row["collection_id"])

    async def pairs(self, type_id: str, page: PageRequest) -> Page:
        """The (source, destination) entity types a relationship type allows, namespaced."""
        row = await self.get(RELATIONSHIP_TYPES, type_id)
        prefix = type_id.split("__", 1)[0] + "__"
        pairs = [
            {"source": prefix + p["source"], "destination": prefix + p["destination"]}
            for p in row["metadata"].get("pairs", [])
        ]
        return _offset_page(pairs, page)

    async def relationship_types_of(self, type_id: str, page: PageRequest) -> Page:
        """The relationship types that admit an entity type as their source or destination."""
        row = await self.get(ENTITY_TYPES, type_id)
        lineage = {row["metadata"].get("class"), *row["metadata"].get("ancestors", [])}
        found = []
        for rel in await self.pool.fetch(store.CURRENT_RELATIONSHIP_TYPES, row["collection_id"]):
            pairs = rel["metadata"].get("pairs", [])
            for role in ("source", "destination"):
                if any(p[role] in lineage for p in pairs):
                    found.append({"relationshipType": rel["type_id"], "role": role})
        return _offset_page(found, page)


def _offset_page(items: list[dict[str, Any]], page: PageRequest) -> Page:
    start = _keyset(page.after, int) or 0
    return page.page(len(items), items[start : start + page.fetch], lambda _: start + page.size)
