"""The Apollo file-import calls: a batch read from a file named by the ``fileName`` header.

The file is either the request's body (as a client that sends it along does), or, when the body
is empty as the doc pages show it, the file the caller uploaded under that name beforehand
(``PUT /apollo/er/files/{fileName}``). A name ending in ``.csv`` (or ``v=1.1``) is read as the
pages' CSV layout (names, JSON types, required/optional, then one item per row); anything else
as JSON: an array of objects, one object, or one object per line."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from shared.er.store import files as files_store
from shared.errors import BadRequest, NotFound, PayloadTooLarge
from shared.importer.errors import BadInput
from shared.importer.sources import parse_csv, parse_ndjson

MAX_FILE_NAME = 255


def file_name(value: str) -> str:
    if not 1 <= len(value) <= MAX_FILE_NAME or not value.isprintable() or "/" in value:
        raise BadRequest(f"fileName must be 1 to {MAX_FILE_NAME} printable characters, no '/'")
    return value


async def save_file(
    pool: asyncpg.Pool, principal_id: int, name: str, content: bytes, quota_bytes: int
) -> None:
    """Keep the upload, in place of one of the same name; 413 when the principal's stored
    uploads would pass ``quota_bytes`` (day-old ones are swept first, as they go anyway)."""
    async with pool.acquire() as conn, conn.transaction():
        await files_store.lock_uploader(conn, principal_id)
        await files_store.sweep_old(conn, principal_id, name)
        kept = await files_store.stored_bytes(conn, principal_id, name)
        if kept + len(content) > quota_bytes:
            raise PayloadTooLarge(
                f"Uploads are limited to {quota_bytes} stored bytes per principal: {kept} are "
                f"kept, and this file has {len(content)}. Delete a kept one first "
                "(DELETE /apollo/er/files/{name}); uploads are swept a day after they arrive"
            )
        await files_store.save(conn, principal_id, name, content)


async def delete_file(pool: asyncpg.Pool, principal_id: int, name: str) -> None:
    if not await files_store.delete(pool, principal_id, name):
        raise NotFound(f"No file named '{name}'")


async def file_content(pool: asyncpg.Pool, principal_id: int, name: str, body: bytes) -> bytes:
    """The body when there is one, else the caller's upload of that name (404 if none)."""
    if body.strip():
        return body
    content = await files_store.content(pool, principal_id, name)
    if content is None:
        raise NotFound(
            f"No file named '{name}': send it as the body, or upload it first with "
            f"PUT /apollo/er/files/{name}"
        )
    return content


def items_of(name: str, content: bytes, csv: bool) -> Any:
    """The file's items, as a JSON body would give them."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The file '{name}' is not UTF-8 text") from exc
    try:
        if csv or name.lower().endswith(".csv"):
            return [item.body for item in parse_csv(text, name)]
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return [item.body for item in parse_ndjson(text, name)]
    except BadInput as exc:
        raise BadRequest(exc.message) from exc
