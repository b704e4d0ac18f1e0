"""The SPARQL endpoint over HTTP, on a real Brick model (G36 AHU + VAV, Brick 1.4): subclass
reasoning through the release's ontology, the protocol's forms and formats, the graph kept in
step with ER writes and deletes, the limits, and the access rules."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.brick_model import brick_schema_collection, load_model
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, register, upsert_ok

ENDPOINT = "/apollo/er/ercollections/g36/sparql"
TEMPERATURE_SENSORS = """
SELECT ?sensor WHERE { ?sensor rdf:type/rdfs:subClassOf* brick:Temperature_Sensor }
ORDER BY ?sensor
"""
VAVS_WITH_ZONE_SENSORS = """
PREFIX brick: <https://brickschema.org/schema/Brick#>
SELECT ?vav ?sensor WHERE {
    ?ahu rdf:type/rdfs:subClassOf* brick:HVAC_Equipment ; brick:feeds ?vav .
    ?vav rdf:type/rdfs:subClassOf* brick:Terminal_Unit ; brick:hasPoint ?sensor .
    ?sensor rdf:type/rdfs:subClassOf* brick:Zone_Air_Temperature_Sensor .
}
"""


def entity(name: str) -> str:
    return f"urn:brickyard:er:g36:{name}"


async def select(client: TestClient, token: str, text: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(ENDPOINT, params={"query": text, **params}, headers=bearer(token))
    body = await response.json(content_type=None)
    assert response.status == 200, body
    assert response.content_type == "application/sparql-results+json"
    return body["results"]["bindings"]


async def refused(client: TestClient, token: str, text: str, **params: str) -> str:
    response = await client.get(ENDPOINT, params={"query": text, **params}, headers=bearer(token))
    body = await response.json()
    assert response.status == 400, body
    return body["status"]["message"]


async def test_sparql_over_a_real_brick_model_with_subclass_reasoning(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await brick_schema_collection(client, token, "Brick_1_4", "1.4")
    assert (await register(client, token, "g36", "Brick_1_4")).status == 201
    await load_model(client, token, "g36-combined-ahu-vav.ttl", "g36", "Brick_1_4")

    # No sensor is typed Temperature_Sensor: each is found through its subclass chain.
    rows = await select(client, token, TEMPERATURE_SENSORS)
    assert [r["sensor"]["value"] for r in rows] == [
        entity(n) for n in ("mats1", "oats1", "rats1", "sats1", "sats_ahu1", "zts1")
    ]
    rows = await select(client, token, VAVS_WITH_ZONE_SENSORS)
    assert [(r["vav"]["value"], r["sensor"]["value"]) for r in rows] == [
        (entity("vav1"), entity("zts1"))
    ]
    # The protocol's POST forms, and CSV.
    response = await client.post(
        ENDPOINT, data=TEMPERATURE_SENSORS,
        headers={**bearer(token), "Content-Type": "application/sparql-query", "Accept": "text/csv"},
    )  # fmt: skip
    assert response.status == 200 and response.content_type == "text/csv"
    lines = (await response.text()).split("\r\n")
    assert lines[0] == "sensor" and lines[1] == entity("mats1") and len(lines) == 8
    response = await client.post(
        ENDPOINT, data={"query": "ASK { er:ahu1 brick:feeds er:vav1 }"}, headers=bearer(token)
    )
    assert (await response.json(content_type=None))["boolean"] is True
    labels = await select(client, token, "SELECT ?name { er:room2 rdfs:label ?name }")
    assert labels == [{"name": {"type": "literal", "value": "room2"}}]

    # Kept in step with the ER store: a new sensor is seen at once, a deleted one is gone.
    await upsert_ok(client, token, "entities", "g36", [
        {"id": "zts2", "entityName": "Zone 2 temp", "entityType": "BRICK_1_4__Zone_Air_Temperature_Sensor"},
    ])  # fmt: skip
    rows = await select(client, token, TEMPERATURE_SENSORS)
    assert entity("zts2") in [r["sensor"]["value"] for r in rows]
    response = await client.delete(
        "/apollo/er/entities/oats1?cascade=true", headers={**bearer(token), "ercollectionid": "g36"}
    )
    assert response.status == 200
    rows = await select(client, token, TEMPERATURE_SENSORS)
    assert entity("oats1") not in [r["sensor"]["value"] for r in rows]
    assert not await select(client, token, "SELECT ?p { er:ahu1 brick:hasPoint er:oats1 }")

    # Limits: results (the ontology alone has tens of thousands of triples) and time.
    message = await refused(client, token, "SELECT * { ?s ?p ?o }")
    assert "more than 10000 results" in message
    # Solutions stream, so the thread stops at the first one past the deadline.
    many = "SELECT ?a ?e { ?a ?b ?c . ?c ?d ?e }"
    assert "time limit" in await refused(client, token, many, timeout="0.001")
    assert len(await select(client, token, "SELECT * { ?s ?p ?o } LIMIT 10")) == 10

    # Read-only, parsed, and the dataset is the collection's own.
    assert "read-only" in await refused(client, token, "INSERT DATA { er:a brick:feeds er:b }")
    assert "read-only" in await refused(
        client, token, "PREFIX x: <urn:x#>\nDELETE WHERE { ?s ?p ?o }"
    )
    response = await client.post(ENDPOINT, data={"update": "CLEAR ALL"}, headers=bearer(token))
    assert response.status == 400
    assert "does not parse" in await refused(client, token, "SELEKT * { ?s ?p ?o }")
    federated = "SELECT * { SERVICE # a comment hides nothing\n<http://127.0.0.1:1/> { ?s ?p ?o } }"
    assert "SERVICE" in await refused(client, token, federated)
    assert await select(client, token, 'SELECT ?s { ?s rdfs:label "service desk" }') == []
    assert "default-graph-uri" in await refused(
        client, token, "SELECT * { ?s ?p ?o }", **{"default-graph-uri": "urn:x"}
    )
    response = await client.post(
        ENDPOINT, data=b"x", headers={**bearer(token), "Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_sparql_follows_the_collection_access_rules(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    await brick_schema_collection(client, alice, "Brick_1_4", "1.4")
    for name in ("g36", "other"):
        assert (await register(client, alice, name, "Brick_1_4")).status == 201
    await upsert_ok(client, alice, "entities", "other", [
        {"id": "secret", "entityName": "Secret AHU", "entityType": "BRICK_1_4__AHU"},
    ])  # fmt: skip
    mallory = await make_token("mallory", *ALL_SCOPES)
    response = await client.get(ENDPOINT, params={"query": "ASK {}"}, headers=bearer(mallory))
    assert response.status == 403
    writer_only = await make_token("alice", "apollo_write")
    response = await client.get(ENDPOINT, params={"query": "ASK {}"}, headers=bearer(writer_only))
    assert response.status == 403
    # Another collection's graph is out of reach, FROM and GRAPH included.
    for text in (
        "SELECT ?s { ?s a brick:AHU }",
        "SELECT ?s FROM <urn:brickyard:graph:other> { ?s a brick:AHU }",
        "SELECT ?s { GRAPH ?g { ?s a brick:AHU } }",
    ):
        assert await select(client, alice, text) == [], text
