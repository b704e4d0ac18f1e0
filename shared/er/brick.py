"""An ER collection as a Brick model: the class and relation of each of its types (what an
importer needs to map a Brick graph onto them), and the collection written back as Turtle.

Export streams: entities and relationships are read in pages of ``PAGE`` by id and written
as they come, so a collection of any size costs one page of memory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import asyncpg

from shared.db import Executor
from shared.er.access import ErCollection
from shared.er.store import reads as reads_store

BRICK = "https://brickschema.org/schema/Brick#"
PAGE = 1000


class _ById(Protocol):
    @property
    def id(self) -> str: ...


Line = TypeVar("Line", bound=_ById)
# A page of items by id: (db, collection id, after id, limit).
PageReader = Callable[[Executor, str, str, int], Awaitable[list[Line]]]

# An absolute IRI that Turtle can write between angle brackets as it is.
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_LOCAL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class BrickTypes:
    """The collection's current types: entity type -> Brick class, relationship type ->
    relation and allowed pairs, with the class ancestry the pairs are checked against."""

    schema_collection_id: str
    release: str | None
    entity_types: list[dict[str, Any]]
    relationship_types: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaCollectionId": self.schema_collection_id,
            "release": self.release,
            "namespace": BRICK,
            "entityTypes": self.entity_types,
            "relationshipTypes": self.relationship_types,
        }

    def class_of(self) -> dict[str, str]:
        return {t["typeId"]: t["class"] for t in self.entity_types}

    def relation_of(self) -> dict[str, str]:
        return {t["typeId"]: t["relation"] for t in self.relationship_types}


async def brick_types(db: asyncpg.Pool, collection: ErCollection) -> BrickTypes:
    schema_collection = collection.schema_collection_id
    release = await reads_store.collection_release(db, schema_collection)
    entities, relationships = [], []
    for row in await reads_store.current_types(db, schema_collection):
        meta, type_id = row.metadata or {}, row.type_id
        local = type_id.split("__", 1)[-1]
        if row.schema_type == "entitytypes":
            entities.append(
                {
                    "typeId": type_id,
                    "class": meta.get("class") or local,
                    "ancestors": meta.get("ancestors") or [],
                    # A deprecated class's successor, so an import can map an old name to it.
                    **({"replacedBy": meta["replacedBy"]} if meta.get("replacedBy") else {}),
                }
            )
        else:
            relationships.append(
                {
                    "typeId": type_id,
                    "relation": meta.get("relation") or local.split("_", 1)[0],
                    "pairs": [[p["source"], p["destination"]] for p in meta.get("pairs", [])],
                }
            )
    return BrickTypes(schema_collection, release, entities, relationships)


def iri(collection_id: str, item_id: str) -> str:
    """The node of an entity: its id when that is an IRI (an imported Brick node), else a URN
    naming the collection and the id."""
    if _IRI.fullmatch(item_id):
        return f"<{item_id}>"
    return f"<urn:brickyard:{quote(collection_id, safe='')}:{quote(item_id, safe='')}>"


def brick_term(name: str) -> str:
    return f"brick:{name}" if _LOCAL_NAME.fullmatch(name) else f"<{BRICK}{quote(name)}>"


def literal(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


async def _pages(
    db: asyncpg.Pool, read_page: PageReader[Line], collection_id: str
) -> AsyncIterator[list[Line]]:
    after = ""
    while True:
        rows = await read_page(db, collection_id, after, PAGE)
        if not rows:
            return
        yield rows
        after = rows[-1].id


async def turtle(db: asyncpg.Pool, collection: ErCollection) -> AsyncIterator[str]:
    """The collection as Turtle, in pieces: a header, then entities, then relationships."""
    types = await brick_types(db, collection)
    class_of, relation_of = types.class_of(), types.relation_of()
    yield (
        f"# ER collection {collection.id}, schema collection {types.schema_collection_id}"
        f" (Brick {types.release or 'unknown release'})\n"
        f"@prefix brick: <{BRICK}> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n"
    )
    name = collection.id
    async for entities in _pages(db, reads_store.entity_page, name):
        lines = []
        for entity in entities:
            kind = class_of.get(entity.entity_type) or entity.entity_type.split("__", 1)[-1]
            label = f" ;\n    rdfs:label {literal(entity.name)}" if entity.name else ""
            lines.append(f"{iri(name, entity.id)} a {brick_term(kind)}{label} .\n")
        yield "".join(lines)
    async for relationships in _pages(db, reads_store.relationship_page, name):
        lines = []
        for relationship in relationships:
            relation = relation_of.get(relationship.relationship_type)
            if relation is None:  # its type left the schema collection: nothing to call it
                continue
            source = iri(name, relationship.source_entity_id)
            target = iri(relationship.destination_collection_id, relationship.destination_entity_id)
            lines.append(f"{source} {brick_term(relation)} {target} .\n")
        yield "".join(lines)
