"""Files callers upload for a later file import (``er_uploaded_files``), and the file
entities of a collection."""

from __future__ import annotations

from shared.db import Executor, fetch_as
from shared.er.rows import ItemRow
from shared.er.store.reads import item_columns
from shared.er.tables import ENTITIES

SAVE_FILE = """
INSERT INTO er_uploaded_files (principal_id, file_name, content) VALUES ($1, $2, $3)
ON CONFLICT (principal_id, file_name) DO UPDATE SET content = $3, uploaded_at = now()
"""
# Uploads are kept for a day, swept by the uploader's next upload rather than by a timer.
SWEEP_OLD_FILES = """
DELETE FROM er_uploaded_files
WHERE principal_id = $1 AND uploaded_at < now() - interval '24 hours' AND file_name <> $2
"""
# One principal's uploads one at a time, so two cannot each fit the quota and together pass it.
# NO KEY UPDATE: rows that reference the principal (tokens, grants) are not held up.
LOCK_UPLOADER = "SELECT id FROM principals WHERE id = $1 FOR NO KEY UPDATE"
STORED_BYTES = """
SELECT coalesce(sum(octet_length(content)), 0) FROM er_uploaded_files
WHERE principal_id = $1 AND file_name <> $2
"""
DELETE_FILE = "DELETE FROM er_uploaded_files WHERE principal_id = $1 AND file_name = $2"
READ_FILE = "SELECT content FROM er_uploaded_files WHERE principal_id = $1 AND file_name = $2"


async def save(db: Executor, principal_id: int, name: str, content: bytes) -> None:
    """Keep the file under its name, in place of an earlier one of that name."""
    await db.execute(SAVE_FILE, principal_id, name, content)


async def sweep_old(db: Executor, principal_id: int, kept: str) -> None:
    """Remove the principal's uploads older than a day, except the file named ``kept``."""
    await db.execute(SWEEP_OLD_FILES, principal_id, kept)


async def lock_uploader(db: Executor, principal_id: int) -> None:
    await db.execute(LOCK_UPLOADER, principal_id)


async def stored_bytes(db: Executor, principal_id: int, besides: str) -> int:
    """Bytes the principal keeps in uploads other than the file named ``besides``."""
    total: int = await db.fetchval(STORED_BYTES, principal_id, besides)
    return total


async def delete(db: Executor, principal_id: int, name: str) -> bool:
    """Whether there was such a file to delete."""
    status: str = await db.execute(DELETE_FILE, principal_id, name)
    return status != "DELETE 0"


async def content(db: Executor, principal_id: int, name: str) -> bytes | None:
    found: bytes | None = await db.fetchval(READ_FILE, principal_id, name)
    return found


# File entities (shared/er/file_entities.py): the collection's entities of the file type whose
# id or file name is the one asked for; the by-type index keeps this to the collection's files.
FILE_ENTITIES = f"""
SELECT {item_columns(ENTITIES)} FROM er_entities
WHERE collection_id = $1 AND entity_type = $2
  AND (id = $3 OR body -> 'sysData' ->> 'file_name' = $3)
ORDER BY id
"""
ENTITY_VERSION = "SELECT version FROM er_entities WHERE collection_id = $1 AND id = $2"


async def file_entities(
    db: Executor, collection_id: str, file_type: str, id_or_name: str
) -> list[ItemRow]:
    return await fetch_as(db, ItemRow, FILE_ENTITIES, collection_id, file_type, id_or_name)


async def entity_version(db: Executor, collection_id: str, entity_id: str) -> int | None:
    """The entity's current version, None when it does not exist."""
    version: int | None = await db.fetchval(ENTITY_VERSION, collection_id, entity_id)
    return version
