"""Reading entities and relationships back: pages by id, one item, collection statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.er.access import ErCollection
from shared.er.paging import decode_token, encode_token
from shared.er.text import is_storable
from shared.errors import BadRequest, NotFound


@dataclass(frozen=True, slots=True)
class ItemTable:
    table: str
    type_column: str
    noun: str

    @property
    def count_sql(self) -> str:
        return (
            f"SELECT count(*) FROM {self.table} "
            f"WHERE collection_id = $1 AND ($2::text IS NULL OR {self.type_column} = $2)"
        )

    @property
    def page_sql(self) -> str:
        return (
            f"SELECT id, body FROM {self.table} "
            f"WHERE collection_id = $1 AND ($2::text IS NULL OR {self.type_column} = $2) "
            "AND id > $3 ORDER BY id LIMIT $4"
        )

    @property
    def get_sql(self) -> str:
        return f"SELECT body FROM {self.table} WHERE collection_id = $1 AND id = $2"


ENTITIES = ItemTable("er_entities", "entity_type", "entity")
RELATIONSHIPS = ItemTable("er_relationships", "relationship_type", "relationship")

ENTITY_TYPE_COUNTS = """
SELECT entity_type AS type_id, count(*) AS n FROM er_entities
WHERE collection_id = $1 GROUP BY entity_type ORDER BY entity_type
"""
RELATIONSHIP_TYPE_COUNTS = """
SELECT relationship_type AS type_id, count(*) AS n,
       count(*) FILTER (WHERE destination_collection_id <> collection_id) AS across
FROM er_relationships
WHERE collection_id = $1 GROUP BY relationship_type ORDER BY relationship_type
"""


async def list_items(
    pool: asyncpg.Pool,
    table: ItemTable,
    collection: ErCollection,
    type_id: str | None,
    size: int,
    continuation: str | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of items (by id) and its paging block."""
    after = decode_token(continuation) or ""
    if not isinstance(after, str) or not is_storable(after):
        raise BadRequest("The continuationToken header is not a token this service issued")
    total = await pool.fetchval(table.count_sql, collection.id, type_id)
    rows = await pool.fetch(table.page_sql, collection.id, type_id, after, size + 1)
    token = encode_token(rows[size - 1]["id"]) if len(rows) > size else None
    page = [row["body"] for row in rows[:size]]
    return page, {"totalCount": total, "continuationToken": token}


async def get_item(
    pool: asyncpg.Pool, table: ItemTable, collection: ErCollection, item_id: str
) -> dict[str, Any]:
    body = await pool.fetchval(table.get_sql, collection.id, item_id)
    if body is None:
        raise NotFound(f"No {table.noun} '{item_id}' in ercollection '{collection.id}'")
    return body


async def collection_stats(pool: asyncpg.Pool, collection: ErCollection) -> dict[str, Any]:
    entity_counts = await pool.fetch(ENTITY_TYPE_COUNTS, collection.id)
    relationship_counts = await pool.fetch(RELATIONSHIP_TYPE_COUNTS, collection.id)
    return {
        "erCollectionId": collection.id,
        "schemaCollectionId": collection.schema_collection_id,
        "entityCount": sum(row["n"] for row in entity_counts),
        "relationshipCount": sum(row["n"] for row in relationship_counts),
        "crossCollectionRelationshipCount": sum(row["across"] for row in relationship_counts),
        "entityTypes": {row["type_id"]: row["n"] for row in entity_counts},
        "relationshipTypes": {row["type_id"]: row["n"] for row in relationship_counts},
    }
