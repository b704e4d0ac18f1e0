"""ER deletes: one entity (refused while relationships reference it, unless cascading) or one
relationship, in one transaction with a ``Delete`` status-log record per deleted item.

The change feed's ``Deleted`` events come from migration 013's triggers; this module only names
its transaction for them (``brickyard.transaction_id``, local to the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.changefeed.wake import announce
from shared.er.access import ErCollection, ErCollections, Role
from shared.er.store import deletes as deletes_store
from shared.errors import Conflict, NotFound
from shared.services import Services
from shared.statuslog import store as statuslog

SHOWN_REFERENCES = 100


@dataclass(frozen=True, slots=True)
class Deletion:
    """Who deletes what, under which transaction and correlation id."""

    principal_id: int
    collection: ErCollection
    item_id: str
    transaction_id: str
    correlation_id: str


@dataclass(frozen=True, slots=True)
class Deleted:
    collection_id: str
    item_kind: str
    item_id: str


def _missing(noun: str, deletion: Deletion) -> NotFound:
    return NotFound(f"No {noun} '{deletion.item_id}' in ercollection '{deletion.collection.id}'")


async def _log(conn: asyncpg.Connection, deletion: Deletion, deleted: list[Deleted]) -> None:
    await statuslog.insert_deleted(
        conn,
        deletion.transaction_id,
        deletion.correlation_id,
        [d.collection_id for d in deleted],
        [d.item_kind for d in deleted],
        [d.item_id for d in deleted],
    )


async def delete_relationship(services: Services, deletion: Deletion) -> list[Deleted]:
    collection_id = deletion.collection.id
    async with services.pool.acquire() as conn, conn.transaction():
        await deletes_store.name_transaction(conn, deletion.transaction_id)
        if not await deletes_store.lock_relationship(conn, collection_id, deletion.item_id):
            raise _missing("relationship", deletion)
        await deletes_store.delete_relationships(conn, [collection_id], [deletion.item_id])
        deleted = [Deleted(collection_id, "relationship", deletion.item_id)]
        await _log(conn, deletion, deleted)
    await _announce(services, deleted)
    return deleted


async def delete_entity(services: Services, deletion: Deletion, cascade: bool) -> list[Deleted]:
    """The entity, and with ``cascade`` every relationship that references it (the caller needs
    readwrite on each collection they are in); without, 409 naming them."""
    collection_id, pool = deletion.collection.id, services.pool
    async with pool.acquire() as conn, conn.transaction():
        await deletes_store.name_transaction(conn, deletion.transaction_id)
        if not await deletes_store.lock_entity(conn, collection_id, deletion.item_id):
            raise _missing("entity", deletion)
        references = await deletes_store.lock_references(conn, collection_id, deletion.item_id)
        if references and not cascade:
            raise Conflict(_referenced(deletion, references))
        others = {r["collection_id"] for r in references} - {collection_id}
        if others:
            await ErCollections(pool).require_each(deletion.principal_id, others, Role.readwrite)
        deleted = [Deleted(r["collection_id"], "relationship", r["id"]) for r in references]
        if deleted:
            await deletes_store.delete_relationships(
                conn,
                [d.collection_id for d in deleted],
                [d.item_id for d in deleted],
            )
        await deletes_store.delete_entity(conn, collection_id, deletion.item_id)
        deleted.append(Deleted(collection_id, "entity", deletion.item_id))
        await _log(conn, deletion, deleted)
    await _announce(services, deleted)
    return deleted


async def _announce(services: Services, deleted: list[Deleted]) -> None:
    collections = [d.collection_id for d in deleted]
    await announce(services.redis, services.settings.queue_name, collections)


def _referenced(deletion: Deletion, references: list[asyncpg.Record]) -> str:
    shown = [
        r["id"]
        if r["collection_id"] == deletion.collection.id
        else f"{r['collection_id']}/{r['id']}"
        for r in references[:SHOWN_REFERENCES]
    ]
    more = (
        f" and {len(references) - SHOWN_REFERENCES} more"
        if len(references) > SHOWN_REFERENCES
        else ""
    )
    return (
        f"Entity '{deletion.item_id}' is referenced by {len(references)} relationship(s): "
        f"{', '.join(shown)}{more}. Delete them first, or delete with ?cascade=true"
    )


def deleted_json(deleted: list[Deleted], tracker: str) -> dict[str, Any]:
    """The 200's data, shaped like an upsert's: one success per deleted item."""
    success = [
        {"id": d.item_id, "erCollectionId": d.collection_id, "requestObject": d.item_kind.title(),
         "message": "Deleted", "tracker": tracker}
        for d in deleted
    ]  # fmt: skip
    return {"responses": {"success": success, "failure": []}}
