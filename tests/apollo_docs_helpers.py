"""The world of the Apollo ER doc pages (../shared/apollo-docs/erservice), rebuilt for replaying
their requests: schema collection BRICK_0_4 with the pages' classes and relations, ER collection
TestER-DVDocs, and the pages' JCI 507 building, floors, room, device and relationships."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    INSERT_SCHEMA_COLLECTION,
    INSERT_TYPE,
    register,
    relationship_schema,
    sha256,
    string_property,
    upsert_ok,
)

SCHEMA_COLLECTION, NS, DOCS = "Brick_0_4", "BRICK_0_4", "TestER-DVDocs"
# Class -> top class, as the pages' brickEntityType values show them.
CLASSES = {
    "Location": "Location",
    "Building": "Location",
    "Floor": "Location",
    "Room": "Location",
    "Device": "Device",
    "Equipment": "Equipment",
    "AHU": "Equipment",
    "Boiler": "Equipment",
}
# Relation type -> (relation, source class, destination class).
RELATIONS = {
    "hasPart_Location_Location": ("hasPart", "Location", "Location"),
    "isPartOf_Location_Location": ("isPartOf", "Location", "Location"),
    "contains_Location_Device": ("contains", "Location", "Device"),
    "isLocatedIn_Device_Location": ("isLocatedIn", "Device", "Location"),
    "isFedBy_Equipment_Equipment": ("isFedBy", "Equipment", "Equipment"),
}


def entity_schema(class_name: str) -> dict[str, Any]:
    type_id = f"{NS}__{class_name}"
    return {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "additionalProperties": False,
        "type": "object",
        "title": type_id,
        "required": ["id", "entityType", "entityName"],
        "properties": {
            "id": string_property("id"),
            "entityName": string_property("entity name"),
            "entityType": string_property("entity type"),
            "brickEntityType": string_property("top", f"{NS}__{CLASSES[class_name]}"),
            "brickEntitySubType": string_property("subtype", type_id),
            "brickEntityName": string_property("name", class_name),
            # Closed, like the generated Brick schemas: version 1.2's labels, geoLocation and
            # geoBoundary are the ER service's fields, not the type's.
            "customData": {"type": "object"},
        },
    }


async def docs_schema_collection(pool: asyncpg.Pool) -> None:
    rows = []
    for class_name, top in CLASSES.items():
        ancestors = [] if class_name == top else [top]
        metadata = {"class": class_name, "topClass": top, "parents": ancestors}
        metadata["ancestors"] = ancestors
        rows.append((f"{NS}__{class_name}", "entitytypes", entity_schema(class_name), metadata))
    for name, (relation, source, destination) in RELATIONS.items():
        metadata = {"relation": relation, "source": source, "destination": destination}
        metadata["pairs"] = [{"source": source, "destination": destination}]
        rows.append((f"{NS}__{name}", "relationshiptypes", relationship_schema(NS, name), metadata))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(INSERT_SCHEMA_COLLECTION, SCHEMA_COLLECTION)
        await conn.executemany(
            INSERT_TYPE, [(t, SCHEMA_COLLECTION, k, s, sha256(s), m) for t, k, s, m in rows]
        )


def doc_entity(entity_id: str, class_name: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"entityType": f"{NS}__{class_name}", "entityName": name, "id": entity_id, **extra}


def doc_relationship(source: str, relation_type: str, destination: str) -> dict[str, Any]:
    relation = RELATIONS[relation_type][0]
    return {
        "id": f"{source}-{relation}-{destination}",
        "relationshipName": f"{source} {relation} {destination}",
        "relationshipType": f"{NS}__{relation_type}",
        "sourceEntityId": source,
        "destinationEntityId": destination,
    }


BUILDING = "JCI 507 Michigan Street Milwaukee Building B1"
ENTITIES = [
    doc_entity("JCI-507-B1", "Building", BUILDING),
    doc_entity("JCI-507-B1-F1", "Floor", f"{BUILDING} Floor F1"),
    doc_entity("JCI-507-B1-F2", "Floor", f"{BUILDING} Floor F2"),
    doc_entity("JCI-507-B1-F1-ETeam1", "Room", f"{BUILDING} Floor F1 E Team 1"),
    doc_entity("JCI-507-Dev-1", "Device", "JCI 507 Device 1"),
]
RELATIONSHIPS = [
    doc_relationship("JCI-507-B1", "hasPart_Location_Location", "JCI-507-B1-F1"),
    doc_relationship("JCI-507-B1-F1", "hasPart_Location_Location", "JCI-507-B1-F1-ETeam1"),
    doc_relationship("JCI-507-B1-F1", "isPartOf_Location_Location", "JCI-507-B1"),
    doc_relationship("JCI-507-B1-F1-ETeam1", "contains_Location_Device", "JCI-507-Dev-1"),
    doc_relationship("JCI-507-Dev-1", "isLocatedIn_Device_Location", "JCI-507-B1-F1-ETeam1"),
]


async def docs_world(client: TestClient, pool: asyncpg.Pool, token: str) -> None:
    """The schema collection, TestER-DVDocs, and the pages' entities and relationships."""
    await docs_schema_collection(pool)
    response = await register(client, token, DOCS, SCHEMA_COLLECTION)
    assert response.status == 201, await response.text()
    await upsert_ok(client, token, "entities", DOCS, ENTITIES)
    await upsert_ok(client, token, "relationships", DOCS, RELATIONSHIPS)


def docs_headers(token: str, **extra: str) -> dict[str, str]:
    """The headers the pages' curl examples send."""
    return {**bearer(token), "Content-Type": "application/json", "ercollectionid": DOCS, **extra}


def point(x: float, y: float) -> dict[str, Any]:
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point"}}
    feature["geometry"]["coordinates"] = [x, y]
    return {"type": "FeatureCollection", "features": [feature]}


def polygon(*vertices: tuple[float, float]) -> dict[str, Any]:
    ring = [[x, y] for x, y in vertices]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    return {"type": "FeatureCollection", "features": [feature]}


SQUARE = ((31.8, -5), (32, -5), (32, -4.7), (31.8, -4.7), (31.8, -5))
COLORADO = ((-109.05, 41), (-102.06, 40.99), (-102.03, 36.99), (-109.04, 36.99), (-109.05, 41))
# The four version 1.2 buildings of getEntities examples 2 to 5.
GEO_BUILDINGS = [
    doc_entity(
        "TestEntity_8989", "Building", "TestEntity1 - JCI 507",
        labels=["BRICK_0_4__Building", "BRICK_0_4__Building_TestEntity1"],
        geoBoundary=polygon(*SQUARE), geoLocation=point(32, -4.7),
    ),
    doc_entity(
        "TestEntity_8990", "Building", "TestEntity1123 - JCI 5072",
        labels=["BRICK_0_4__Building_5072", "BRICK_0_4__Building_TestEntity1123"],
        geoBoundary=polygon(*SQUARE), geoLocation=point(31.9, -4.8),
    ),
    doc_entity(
        "TestEntity_8991", "Building", "TestEntity1 - JCI 5079",
        labels=["BRICK_0_4__Building_5079", "BRICK_0_4__Building_TestEntity_8991"],
        geoBoundary=polygon(*COLORADO), geoLocation=point(-102.03, 36.99),
    ),
    doc_entity(
        "TestEntity_8992", "Building", "TestEntity1 - JCI 50723",
        labels=["BRICK_0_4__Building_50723", "BRICK_0_4__Point"],
        geoBoundary=polygon(*COLORADO), geoLocation=point(-102.06, 40.99),
    ),
]  # fmt: skip


ENVELOPE = {"status", "transactionId", "paging", "data"}


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    body = await response.json()
    assert response.status == status, body
    assert set(body) == ENVELOPE and body["status"]["code"] == str(status)
    return body


async def world(client: TestClient, services: Services, make_token: TokenFactory) -> str:
    """A token of alice (every Apollo scope) and the docs' world."""
    token = await make_token("alice", *ALL_SCOPES)
    await docs_world(client, services.pool, token)
    return token


async def filtered(client: TestClient, token: str, query: str) -> list[str]:
    response = await client.get(
        f"/apollo/er/entities?{query}&v=1.2", headers=docs_headers(token, PageSize="100")
    )
    return [item["id"] for item in (await ok(response))["data"]]
