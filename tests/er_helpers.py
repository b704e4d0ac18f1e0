"""Small hand-made schema collections (inserted straight into the schema service's tables) and
HTTP helpers for the ER tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.conftest import bearer

# Class -> (top class, ancestors nearest first), as the schema service records them.
CLASSES: dict[str, tuple[str, list[str]]] = {
    "Equipment": ("Equipment", []),
    "HVAC_Equipment": ("Equipment", ["Equipment"]),
    "AHU": ("Equipment", ["HVAC_Equipment", "Equipment"]),
    "Fan": ("Equipment", ["HVAC_Equipment", "Equipment"]),
    "Point": ("Point", []),
    "Sensor": ("Point", ["Point"]),
    "Temperature_Sensor": ("Point", ["Sensor", "Point"]),
    "Location": ("Location", []),
    "Room": ("Location", ["Location"]),
}
# Relation -> allowed (source class, destination class) pairs.
RELATIONS: dict[str, list[tuple[str, str]]] = {
    "feeds_Equipment_Equipment": [("Equipment", "Equipment")],
    "isFedBy_Equipment_Equipment": [("Equipment", "Equipment")],
    "hasPoint_Equipment_Point": [("Equipment", "Point")],
    "isPointOf_Point_Equipment": [("Point", "Equipment"), ("Point", "Location")],
}
RELATIONSHIP_FIELDS = [
    "id",
    "sourceEntityId",
    "destinationEntityId",
    "relationshipName",
    "relationshipType",
    "sourceERCollectionId",
    "destinationERCollectionId",
]
DERIVED_RELATIONSHIP_FIELDS = [
    "brickRelationshipType",
    "brickSourceEntityType",
    "brickDestinationEntityType",
]

INSERT_SCHEMA_COLLECTION = """
WITH admin AS (
    INSERT INTO principals (name) VALUES ('schema-admin')
    ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
)
INSERT INTO schema_collections (id, id_key, namespace, created_by)
SELECT $1, lower($1), upper($1), id FROM admin
"""
INSERT_TYPE = """
INSERT INTO type_schemas
    (type_id, version, collection_id, schema_type, schema, content_sha256, metadata, is_current)
VALUES ($1, 1, $2, $3, $4, $5, $6, true)
"""


def string_property(description: str, default: str | None = None) -> dict[str, Any]:
    value = {"description": description, "type": "string"}
    return value if default is None else {**value, "default": default}


def entity_schema(namespace: str, class_name: str) -> dict[str, Any]:
    top_class, _ = CLASSES[class_name]
    type_id = f"{namespace}__{class_name}"
    return {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "description": f"Schema for Entity {type_id}",
        "additionalProperties": False,
        "type": "object",
        "title": type_id,
        "required": ["id", "entityType", "entityName"],
        "properties": {
            "id": string_property("The unique identifier for the entity"),
            "entityName": string_property("entity name"),
            "entityType": string_property("entity type"),
            "brickEntityType": string_property("entity type", f"{namespace}__{top_class}"),
            "brickEntitySubType": string_property("entity subtype", type_id),
            "brickEntityName": string_property("entity name", class_name.replace("_", " ")),
            "customData": {"description": "Custom data", "type": "object"},
        },
    }


def relationship_schema(namespace: str, relation: str) -> dict[str, Any]:
    type_id = f"{namespace}__{relation}"
    properties = {name: string_property(name) for name in RELATIONSHIP_FIELDS}
    properties |= {name: string_property(name) for name in DERIVED_RELATIONSHIP_FIELDS}
    properties["customData"] = {"description": "Custom data", "type": "object"}
    return {
        "$schema": "http://json-schema.org/draft-06/schema#",
        "description": f"Schema for Relationship {type_id}",
        "additionalProperties": False,
        "type": "object",
        "title": type_id,
        "required": ["id", "sourceEntityId", "destinationEntityId", "relationshipType"],
        "properties": properties,
    }


def sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


async def create_schema_collection(pool: asyncpg.Pool, collection_id: str) -> str:
    """A schema collection with the entity and relationship types above; returns its namespace."""
    namespace = collection_id.upper()
    rows = []
    for class_name, (top_class, ancestors) in CLASSES.items():
        schema = entity_schema(namespace, class_name)
        metadata = {
            "class": class_name,
            "topClass": top_class,
            "parents": ancestors[:1],
            "ancestors": ancestors,
        }
        rows.append((f"{namespace}__{class_name}", "entitytypes", schema, metadata))
    for relation, pairs in RELATIONS.items():
        schema = relationship_schema(namespace, relation)
        name, source, destination = relation.split("_")
        metadata = {
            "relation": name,
            "source": source,
            "destination": destination,
            "pairs": [{"source": s, "destination": d} for s, d in pairs],
        }
        rows.append((f"{namespace}__{relation}", "relationshiptypes", schema, metadata))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(INSERT_SCHEMA_COLLECTION, collection_id)
        await conn.executemany(
            INSERT_TYPE,
            [(t, collection_id, kind, s, sha256(s), m) for t, kind, s, m in rows],
        )
    return namespace


async def register(
    client: TestClient, token: str, er_collection_id: str, schema_collection_id: str
) -> ClientResponse:
    return await client.post(
        "/apollo/er/ercollections",
        json={"erCollectionId": er_collection_id, "schemaCollectionId": schema_collection_id},
        headers=bearer(token),
    )


async def post_items(
    client: TestClient,
    token: str,
    kind: str,
    collection_id: str,
    items: list[dict[str, Any]] | Any,
    *,
    is_async: bool = False,
) -> ClientResponse:
    """POST /apollo/er/<kind> (entities | relationships)."""
    headers = {
        **bearer(token),
        "ercollectionid": collection_id,
        "async": "true" if is_async else "false",
    }
    return await client.post(f"/apollo/er/{kind}", json=items, headers=headers)


def entity(namespace: str, entity_id: str, class_name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": entity_id,
        "entityName": f"{class_name} {entity_id}",
        "entityType": f"{namespace}__{class_name}",
        **extra,
    }


def relationship(
    namespace: str, relationship_id: str, relation: str, source: str, destination: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": relationship_id,
        "sourceEntityId": source,
        "destinationEntityId": destination,
        "relationshipName": relation.split("_")[0],
        "relationshipType": f"{namespace}__{relation}",
        **extra,
    }


def query_string(tracker: str) -> str:
    """The path and query of a tracker URL, to call it on the test client."""
    return "/" + tracker.split("://", 1)[1].split("/", 1)[1]


ALL_SCOPES = ("apollo_read", "apollo_write", "apollo_admin")


async def two_collections(
    client: TestClient,
    pool: asyncpg.Pool,
    token: str,
    source: str = "august_14_81",
    destination: str = "august_14_8",
    schema_collection: str = "Brick_0_4",
) -> str:
    """A schema collection and two ER collections bound to it; returns the type namespace."""
    namespace = await create_schema_collection(pool, schema_collection)
    for er_collection in (source, destination):
        response = await register(client, token, er_collection, schema_collection)
        assert response.status == 201, await response.text()
    return namespace


async def upsert_ok(
    client: TestClient, token: str, kind: str, collection_id: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """A synchronous batch that must succeed item by item; returns the 207 body."""
    response = await post_items(client, token, kind, collection_id, items)
    body = await response.json()
    assert response.status == 207, body
    assert body["data"]["responses"]["failure"] == [], body
    return body


async def put_grants(client: TestClient, owner: str, collection_id: str, **roles: str) -> None:
    """Give each named principal a role; ``owner`` (a token of the owner 'alice') keeps owner."""
    grants = [{"principal": "alice", "role": "owner"}]
    grants += [{"principal": name, "role": role} for name, role in roles.items()]
    response = await client.put(
        f"/apollo/er/ercollections/{collection_id}/acl",
        json={"grants": grants},
        headers=bearer(owner),
    )
    assert response.status == 200, await response.text()
