"""SQL for the sample objects kept per type schema version, with typed functions over it."""

from __future__ import annotations

from typing import Any

from shared.db import Executor

# One sample per version: a new one replaces it.
SAVE_SAMPLE = """
INSERT INTO schema_samples (type_id, version, sample, created_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (type_id, version) DO UPDATE
SET sample = EXCLUDED.sample, created_by = EXCLUDED.created_by, created_at = now()
"""
LATEST_SAMPLE = """
SELECT s.sample FROM schema_samples s JOIN type_schemas t USING (type_id, version)
WHERE s.type_id = $1 AND t.schema_type = $2 AND ($3::int IS NULL OR s.version = $3)
ORDER BY s.version DESC LIMIT 1
"""


async def save(db: Executor, type_id: str, version: int, sample: Any, created_by: int) -> None:
    await db.execute(SAVE_SAMPLE, type_id, version, sample, created_by)


async def latest(db: Executor, type_id: str, schema_type: str, version: int | None) -> Any:
    """The sample of the named version, or of the newest version that has one; None if none."""
    return await db.fetchval(LATEST_SAMPLE, type_id, schema_type, version)
