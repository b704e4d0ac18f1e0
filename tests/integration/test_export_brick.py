"""GET /apollo/er/ercollections/{id}/brick: the collection as Turtle that rdflib parses."""

from __future__ import annotations

import rdflib
from aiohttp.test_utils import TestClient
from rdflib import RDF, RDFS

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, relationship
from tests.import_helpers import small_collection

BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")


async def test_ids_that_are_not_iris_become_urns_and_names_are_escaped(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    items = [
        entity(ns, "ahu 1", "AHU", entityName='AHU "one"\nnorth'),
        entity(ns, "http://example.org/fan#1", "Fan"),
    ]
    await post_items(client, token, "entities", "site", items)
    link = relationship(ns, "r", "feeds_Equipment_Equipment", "ahu 1", "http://example.org/fan#1")
    await post_items(client, token, "relationships", "site", [link])

    answer = await client.get("/apollo/er/ercollections/site/brick", headers=bearer(token))
    assert answer.status == 200 and answer.content_type == "text/turtle"
    graph = rdflib.Graph().parse(data=await answer.text(), format="turtle")
    ahu = rdflib.URIRef("urn:brickyard:site:ahu%201")
    fan = rdflib.URIRef("http://example.org/fan#1")
    assert (ahu, RDF.type, BRICK.AHU) in graph and (fan, RDF.type, BRICK.Fan) in graph
    assert str(graph.value(ahu, RDFS.label)) == 'AHU "one"\nnorth'
    assert (ahu, BRICK.feeds, fan) in graph and len(graph) == 5  # 2 types, 2 labels, 1 relation

    stranger = await make_token("mallory", "apollo_read")
    refused = await client.get("/apollo/er/ercollections/site/brick", headers=bearer(stranger))
    assert refused.status == 403 and refused.content_type == "application/json"
