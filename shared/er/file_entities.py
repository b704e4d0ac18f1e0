"""Files uploaded into an ER collection, kept as entities of the file type (``JCI_EXT__File``)
with the file-entity pages' ``sysData`` fields, and read back by file name or entity id.

The entity is written by a synchronous batch of one: validation, versions, status logs and the
change feed see it as they see any entity. Its id is derived from the file name, so uploading
the same name again makes the next version of the same entity. The content itself is kept as
the uploader's private upload (same quota and day-long sweep) for a later import naming it."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.batch_kinds import ENTITIES
from shared.er.batches import Submission, run_batch_here
from shared.er.file_type import FILE_TYPE
from shared.er.files import save_file
from shared.er.store import files as files_store
from shared.er.tables import ENTITIES as ENTITY_TABLE
from shared.er.views import ItemView
from shared.errors import NotFound, Unprocessable
from shared.services import Services

# Ids of file entities: one per (collection, file name), stable across uploads.
FILE_IDS = uuid.UUID("5d0c1f6e-2b7a-4c1e-9a53-6f1e0b6a7c21")
GENERIC_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Upload:
    """One ``PUT /apollo/er/files/{name}`` into a collection."""

    principal: Principal
    collection_name: str
    name: str
    content: bytes
    content_type: str | None
    description: str
    transaction_id: str
    correlation_id: str


def file_entity_id(name: str) -> str:
    return str(uuid.uuid5(FILE_IDS, name))


def file_type_of(name: str, content_type: str | None) -> str:
    """The type the client sent, else the one the name suggests."""
    if content_type and content_type != GENERIC_TYPE:
        return content_type
    return mimetypes.guess_type(name)[0] or GENERIC_TYPE


def file_entity(upload: Upload, version: int) -> dict[str, Any]:
    return {
        "id": file_entity_id(upload.name),
        "entityType": FILE_TYPE,
        "entityName": upload.name,
        "sysData": {
            "file_name": upload.name,
            "file_description": upload.description,
            "file_size": len(upload.content),
            "file_type": file_type_of(upload.name, upload.content_type),
            "file_version": str(version),
            "version": version,
        },
    }


async def upload_file_entity(services: Services, upload: Upload, quota: int) -> dict[str, Any]:
    """Keep the file and write its entity; 403/404 without write access to the collection,
    413 over the quota, 422 when the entity fails its type (then the file is not kept)."""
    collections = ErCollections(services.pool)
    target = await collections.require(upload.principal.id, upload.collection_name, Role.readwrite)
    entity_id = file_entity_id(upload.name)
    stored = await files_store.entity_version(services.pool, target.id, entity_id)
    entity = file_entity(upload, (stored or 0) + 1)
    await save_file(services.pool, upload.principal.id, upload.name, upload.content, quota)
    try:
        batch = Submission(
            upload.principal, ENTITIES, upload.collection_name, [entity],
            upload.transaction_id, upload.correlation_id,
        )  # fmt: skip
        result = await run_batch_here(services, batch)
    except BaseException:
        await files_store.delete(services.pool, upload.principal.id, upload.name)
        raise
    [failure] = result["responses"]["failure"] or [None]
    if failure is not None:
        await files_store.delete(services.pool, upload.principal.id, upload.name)
        raise Unprocessable(f"The file entity was refused: {failure['message']}")
    [success] = result["responses"]["success"]
    return {
        "fileName": upload.name,
        "size": len(upload.content),
        "erCollectionId": target.id,
        "entity": entity,
        "tracker": success["tracker"],
    }


async def file_entities(
    services: Services, collection: ErCollection, id_or_name: str, system: bool
) -> list[dict[str, Any]]:
    """The collection's file entities with this id or file name, as the pages list them; 404
    when there is none. ``system`` adds the usual system data beside the file's fields."""
    rows = await files_store.file_entities(services.pool, collection.id, FILE_TYPE, id_or_name)
    if not rows:
        raise NotFound(f"No file entity '{id_or_name}' in ercollection '{collection.id}'")
    return await ItemView(ENTITY_TABLE, collection, system).render(services.pool, rows)
