"""Deleting ER items: the row locks a delete takes, the deletes, and the name the change feed's
triggers give the deleting transaction (migration 013)."""

from __future__ import annotations

import asyncpg

from shared.db import Executor, fetch_as
from shared.er.rows import ItemKey

# Local to the transaction (set_config's third argument): the triggers read it at each delete.
NAME_TRANSACTION = "SELECT set_config('brickyard.transaction_id', $1, true)"
LOCK_ENTITY = "SELECT id FROM er_entities WHERE collection_id = $1 AND id = $2 FOR UPDATE"
LOCK_RELATIONSHIP = (
    "SELECT id FROM er_relationships WHERE collection_id = $1 AND id = $2 FOR UPDATE"
)
# Relationships from the entity (its own collection) or to it (from any collection), locked in
# one order so that two deletes cannot deadlock.
LOCK_REFERENCES = """
SELECT collection_id, id FROM er_relationships
WHERE (collection_id = $1 AND source_entity_id = $2)
   OR (destination_collection_id = $1 AND destination_entity_id = $2)
ORDER BY collection_id, id
FOR UPDATE
"""
DELETE_RELATIONSHIPS = """
DELETE FROM er_relationships r
USING unnest($1::text[], $2::text[]) AS d(collection_id, id)
WHERE r.collection_id = d.collection_id AND r.id = d.id
"""
DELETE_ENTITY = "DELETE FROM er_entities WHERE collection_id = $1 AND id = $2"


async def name_transaction(conn: asyncpg.Connection, transaction_id: str) -> None:
    """Name the caller's transaction for the feed's ``Deleted`` events (so: a connection)."""
    await conn.execute(NAME_TRANSACTION, transaction_id)


async def lock_entity(conn: asyncpg.Connection, collection_id: str, entity_id: str) -> bool:
    """Lock the entity's row for the caller's transaction; False when there is none."""
    return await conn.fetchval(LOCK_ENTITY, collection_id, entity_id) is not None


async def lock_relationship(
    conn: asyncpg.Connection, collection_id: str, relationship_id: str
) -> bool:
    """Lock the relationship's row for the caller's transaction; False when there is none."""
    return await conn.fetchval(LOCK_RELATIONSHIP, collection_id, relationship_id) is not None


async def lock_references(
    conn: asyncpg.Connection, collection_id: str, entity_id: str
) -> list[ItemKey]:
    """Lock every relationship from or to the entity."""
    return await fetch_as(conn, ItemKey, LOCK_REFERENCES, collection_id, entity_id)


async def delete_relationships(db: Executor, collection_ids: list[str], ids: list[str]) -> None:
    """Delete the relationships of the (collection id, id) pairs the two lists make."""
    await db.execute(DELETE_RELATIONSHIPS, collection_ids, ids)


async def delete_entity(db: Executor, collection_id: str, entity_id: str) -> None:
    await db.execute(DELETE_ENTITY, collection_id, entity_id)
