"""SQL for posted entity-type hierarchies (``schema_hierarchy``), with typed functions over it."""

from __future__ import annotations

import asyncpg

from shared.db import Executor

STORED = """
SELECT child_id, parent_id FROM schema_hierarchy WHERE collection_id = $1 ORDER BY position
"""
# A posted child takes its posted parent and goes after every stored node; a posted root
# (no parent) keeps the parent and place it has, so a subtree can be posted to extend a node.
MERGE = """
INSERT INTO schema_hierarchy (collection_id, child_id, parent_id, position)
SELECT $1, e.child, e.parent,
       e.n + (SELECT coalesce(max(position), 0) FROM schema_hierarchy WHERE collection_id = $1)
FROM unnest($2::text[], $3::text[], $4::int[]) AS e(child, parent, n)
ON CONFLICT (collection_id, child_id) DO UPDATE
SET parent_id = coalesce(EXCLUDED.parent_id, schema_hierarchy.parent_id),
    position = CASE WHEN EXCLUDED.parent_id IS NULL THEN schema_hierarchy.position
                    ELSE EXCLUDED.position END
"""


async def edges(db: Executor, collection_id: str) -> list[tuple[str, str | None]]:
    """The stored (child, parent) edges, in the order they were posted."""
    return [(r["child_id"], r["parent_id"]) for r in await db.fetch(STORED, collection_id)]


async def merge(
    conn: asyncpg.Connection, collection_id: str, children: list[str], parents: list[str | None]
) -> None:
    """Merge posted edges (``children[i]`` under ``parents[i]``), in their order."""
    positions = list(range(1, len(children) + 1))
    await conn.execute(MERGE, collection_id, children, parents, positions)
