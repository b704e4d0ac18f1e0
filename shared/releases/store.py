"""SQL for the release catalog (``schema_releases``), with thin typed functions over it."""

from __future__ import annotations

from typing import Any

from shared.db import Executor, fetch_as, fetchrow_as
from shared.releases.rows import ReleaseRow

# Everything but the bundle, which is large and read only when a release is loaded.
GET_RELEASE = """
SELECT release_line, version, origin, source_sha256, tags, entity_type_count,
       relationship_type_count, created_at
FROM schema_releases WHERE release_line = $1 AND version = $2
"""
GET_BUNDLE = "SELECT bundle FROM schema_releases WHERE release_line = $1 AND version = $2"
LIST_RELEASES = """
SELECT release_line, version, origin, source_sha256, tags, entity_type_count,
       relationship_type_count, created_at
FROM schema_releases ORDER BY release_line, version
"""
PUBLISHED_VERSIONS = "SELECT version FROM schema_releases WHERE release_line = $1"
# A built-in release is generated again when its source changes; a published one never
# changes (the WHERE leaves it as it is).
UPSERT_RELEASE = """
INSERT INTO schema_releases (release_line, version, origin, source_sha256, bundle, tags,
                             entity_type_count, relationship_type_count, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (release_line, version) DO UPDATE
SET source_sha256 = EXCLUDED.source_sha256, bundle = EXCLUDED.bundle, tags = EXCLUDED.tags,
    entity_type_count = EXCLUDED.entity_type_count,
    relationship_type_count = EXCLUDED.relationship_type_count, created_at = now()
WHERE schema_releases.origin = 'builtin'
"""


async def release(db: Executor, line: str, version: str) -> ReleaseRow | None:
    return await fetchrow_as(db, ReleaseRow, GET_RELEASE, line, version)


async def bundle(db: Executor, line: str, version: str) -> dict[str, Any]:
    found: dict[str, Any] = await db.fetchval(GET_BUNDLE, line, version)
    return found


async def releases(db: Executor) -> list[ReleaseRow]:
    """Every stored release, ordered by line and version (as text)."""
    return await fetch_as(db, ReleaseRow, LIST_RELEASES)


async def published_versions(db: Executor, line: str) -> list[str]:
    return [row["version"] for row in await db.fetch(PUBLISHED_VERSIONS, line)]


async def upsert_release(
    db: Executor,
    normalised: dict[str, Any],
    origin: str,
    source_sha256: str,
    entity_type_count: int,
    relationship_type_count: int,
    created_by: int | None,
) -> None:
    await db.execute(
        UPSERT_RELEASE,
        normalised["releaseLine"],
        normalised["version"],
        origin,
        source_sha256,
        normalised,
        normalised["tags"],
        entity_type_count,
        relationship_type_count,
        created_by,
    )
