"""ER deletes: one entity (refused while relationships reference it, unless cascading) or one
relationship, in one transaction with a ``Delete`` status-log record per deleted item.

The change feed's ``Deleted`` events come from migration 013's triggers; this module only names
its transaction for them (``brickyard.transaction_id``, local to the transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.changefeed.announce import announce
from shared.er.access import ErCollection, ErCollections
from shared.er.rows import ItemKey
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
    # False for an item of a collection the deleter cannot read: counted, never named.
    shown: bool = True


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
    """The entity, and with ``cascade`` every relationship that references it, from whichever
    collection (a relationship does not outlive its end); without, 409 naming them.

    Deciding over an entity is its collection's writers' call: a relationship another
    collection holds to it (written with read access only) cannot block its delete, so
    cascading needs no role on that collection. The caller is shown only the ids in
    collections it can read; the others are counted (their members see the Delete records)."""
    collection_id, pool = deletion.collection.id, services.pool
    async with pool.acquire() as conn, conn.transaction():
        await deletes_store.name_transaction(conn, deletion.transaction_id)
        if not await deletes_store.lock_entity(conn, collection_id, deletion.item_id):
            raise _missing("entity", deletion)
        references = await deletes_store.lock_references(conn, collection_id, deletion.item_id)
        others = {r.collection_id for r in references} - {collection_id}
        readable = await ErCollections(pool).readable(deletion.principal_id, others)
        readable.add(collection_id)
        if references and not cascade:
            raise Conflict(_referenced(deletion, references, readable))
        deleted = [
            Deleted(r.collection_id, "relationship", r.id, r.collection_id in readable)
            for r in references
        ]
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


def _referenced(deletion: Deletion, references: list[ItemKey], readable: set[str]) -> str:
    visible = [r for r in references if r.collection_id in readable]
    shown = [
        r.id if r.collection_id == deletion.collection.id else f"{r.collection_id}/{r.id}"
        for r in visible[:SHOWN_REFERENCES]
    ]
    unshown = [f"{len(visible) - len(shown)} more"] if len(visible) > len(shown) else []
    if hidden := len(references) - len(visible):
        unshown.append(f"{hidden} in collections the caller cannot read")
    listed = " and ".join(part for part in (", ".join(shown), *unshown) if part)
    return (
        f"Entity '{deletion.item_id}' is referenced by {len(references)} relationship(s): "
        f"{listed}. Delete them first, or delete with ?cascade=true (which deletes them "
        "all)"
    )


def deleted_json(deleted: list[Deleted], tracker: str) -> dict[str, Any]:
    """The 200's data, shaped like an upsert's: one success per deleted item."""
    success = [
        {"id": d.item_id, "erCollectionId": d.collection_id, "requestObject": d.item_kind.title(),
         "message": "Deleted", "tracker": tracker}
        for d in deleted
        if d.shown
    ]  # fmt: skip
    return {"responses": {"success": success, "failure": []}}
