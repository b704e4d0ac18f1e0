"""A real Brick model in an ER collection, for graph and SPARQL tests: the Turtle's entities
and Brick relations become ER entities and relationships through the public HTTP API, typed
by a schema collection synced from the model's Brick release (tests/data/brick-models/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rdflib
from aiohttp.test_utils import TestClient

from tests.conftest import bearer
from tests.er_helpers import upsert_ok
from tests.schema_helpers import get_all, sync

MODELS = Path(__file__).parent / "data" / "brick-models"
BRICK = "https://brickschema.org/schema/Brick#"
BATCH = 100


def local(term: rdflib.term.Node) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rsplit("/", 1)[-1]


async def brick_schema_collection(client: TestClient, token: str, name: str, release: str) -> None:
    headers = {**bearer(token), "Content-Type": "application/json"}
    body = {"schemaCollectionId": name, "release": release}
    response = await client.post("/apollo/schema/schemacollections", json=body, headers=headers)
    assert response.status == 200, await response.text()
    for schema_type in ("entitytypes", "relationshiptypes"):
        await sync(client, headers, name, schema_type)


async def type_catalog(
    client: TestClient, token: str, name: str
) -> tuple[dict[str, tuple[str, list[str]]], dict[str, list[tuple[str, list[dict[str, str]]]]]]:
    """Class -> (type id, the class and its ancestors); relation -> [(type id, pairs)]."""
    classes: dict[str, tuple[str, list[str]]] = {}
    relations: dict[str, list[tuple[str, list[dict[str, str]]]]] = {}
    path = f"/apollo/schema/entitytypes/schemacollections/{name}"
    for entry in (await get_all(client, path, bearer(token), size=1000))[0]:
        schema = entry["schema"]
        brick = schema["x-brick"]
        classes[brick["class"]] = (schema["title"], [brick["class"], *brick.get("ancestors", [])])
    path = f"/apollo/schema/relationshiptypes/schemacollections/{name}"
    for entry in (await get_all(client, path, bearer(token), size=1000))[0]:
        schema = entry["schema"]
        brick = schema["x-brick"]
        relations.setdefault(brick["relation"], []).append((schema["title"], brick["pairs"]))
    return classes, relations


async def load_model(
    client: TestClient, token: str, model: str, collection: str, schema_collection: str
) -> dict[str, Any]:
    """Upsert the model's entities and relationships into ``collection``; returns what was
    loaded (entity ids by class, relationships) and what no type admitted."""
    classes, relations = await type_catalog(client, token, schema_collection)
    graph = rdflib.Graph().parse(MODELS / model)
    entities: dict[str, str] = {}  # id -> class
    for subject, kind in graph.subject_objects(rdflib.RDF.type):
        if str(kind).startswith(BRICK) and local(kind) in classes:
            entities[local(subject)] = local(kind)
    items = [
        {"id": i, "entityName": i.replace("_", " "), "entityType": classes[c][0]}
        for i, c in sorted(entities.items())
    ]
    relationships, skipped = [], []
    for subject, predicate, obj in sorted(graph):
        source, destination = local(subject), local(obj)
        if not str(predicate).startswith(BRICK) or source not in entities:
            continue
        if destination not in entities:
            continue
        type_id = _relationship_type(
            relations.get(local(predicate), []),
            classes[entities[source]][1],
            classes[entities[destination]][1],
        )
        if type_id is None:
            skipped.append((source, local(predicate), destination))
            continue
        relationships.append({
            "id": f"{source}-{local(predicate)}-{destination}",
            "relationshipName": local(predicate),
            "relationshipType": type_id,
            "sourceEntityId": source,
            "destinationEntityId": destination,
        })  # fmt: skip
    for start in range(0, len(items), BATCH):
        await upsert_ok(client, token, "entities", collection, items[start : start + BATCH])
    for start in range(0, len(relationships), BATCH):
        await upsert_ok(
            client, token, "relationships", collection, relationships[start : start + BATCH]
        )
    return {"entities": entities, "relationships": relationships, "skipped": skipped}


def _relationship_type(
    candidates: list[tuple[str, list[dict[str, str]]]], source: list[str], destination: list[str]
) -> str | None:
    for type_id, pairs in candidates:
        if any(p["source"] in source and p["destination"] in destination for p in pairs):
            return type_id
    return None
