"""The SQL the SPARQL graphs are built from: each collection's entities and relationships, the
feed position a snapshot of them stands at, and the types' Brick names and hierarchy."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.db import Executor

SNAPSHOT_COUNTER = (
    "SELECT coalesce(max(last_sequence), 0) FROM er_changefeed_counters WHERE collection_id = $1"
)
ALL_ENTITIES = (
    "SELECT id, entity_type, body ->> 'entityName' AS name FROM er_entities "
    "WHERE collection_id = $1 AND ($2::text[] IS NULL OR id = ANY($2::text[]))"
)
ALL_RELATIONSHIPS = (
    "SELECT id, relationship_type, source_entity_id, destination_collection_id, "
    "destination_entity_id FROM er_relationships "
    "WHERE collection_id = $1 AND ($2::text[] IS NULL OR id = ANY($2::text[]))"
)
TYPE_METADATA = "SELECT type_id, metadata FROM type_schemas WHERE type_id = ANY($1) AND is_current"
RELEASE = "SELECT release_line, release_version FROM schema_collections WHERE id = $1"
# When the release's Turtle is not at hand: the class hierarchy the schema service recorded.
HIERARCHY = """
SELECT metadata ->> 'class' AS class, jsonb_array_elements_text(metadata -> 'parents') AS parent
FROM type_schemas WHERE collection_id = $1 AND schema_type = 'entitytypes' AND is_current
"""


async def snapshot_counter(db: Executor, collection_id: str) -> int:
    """The collection's last feed sequence id (0: none yet); read in the snapshot's transaction,
    it is where the feed resumes after the snapshot."""
    applied: int = await db.fetchval(SNAPSHOT_COUNTER, collection_id)
    return applied


async def entities(db: Executor, collection_id: str, ids: list[str] | None) -> list[asyncpg.Record]:
    """The collection's entities of ``ids`` (None: all): id, type and name."""
    rows: list[asyncpg.Record] = await db.fetch(ALL_ENTITIES, collection_id, ids)
    return rows


async def relationships(
    db: Executor, collection_id: str, ids: list[str] | None
) -> list[asyncpg.Record]:
    """The collection's relationships of ``ids`` (None: all): id, type and both ends."""
    rows: list[asyncpg.Record] = await db.fetch(ALL_RELATIONSHIPS, collection_id, ids)
    return rows


async def type_metadata(db: Executor, type_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The metadata of the current versions of ``type_ids`` (an unknown type is left out)."""
    rows = await db.fetch(TYPE_METADATA, type_ids)
    return {row["type_id"]: row["metadata"] or {} for row in rows}


async def release(db: Executor, schema_collection_id: str) -> tuple[str | None, str | None]:
    """The release line and version a schema collection follows ((None, None): unknown)."""
    row = await db.fetchrow(RELEASE, schema_collection_id)
    return (row["release_line"], row["release_version"]) if row else (None, None)


async def class_hierarchy(
    db: Executor, schema_collection_id: str
) -> list[tuple[str | None, str | None]]:
    """(class, parent) pairs of the collection's entity types; metadata may lack either."""
    rows = await db.fetch(HIERARCHY, schema_collection_id)
    return [(row["class"], row["parent"]) for row in rows]
