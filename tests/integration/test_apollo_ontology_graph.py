"""The ontology graph follows its collection: after a sync, a delete, and two racing posts."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES
from tests.integration.test_apollo_ontology_docs import finished
from tests.schema_helpers import API, create_collection, publish, release, sync

GRAPH = "/apollo/ontologygraph/entityTypes"


async def objects_of(client: TestClient, headers: dict[str, str], type_id: str) -> set[str]:
    response = await client.get(f"{GRAPH}/{type_id}", headers=headers)
    body = await response.json()
    assert response.status == 200, body
    return {k for item in body["data"] for k in item if k.startswith("ACME__")}


async def test_the_graph_follows_a_sync_and_a_delete(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    headers = bearer(await make_token("alice", *ALL_SCOPES))
    await publish(client, headers, release("1.0"))
    await create_collection(client, headers, "Acme", releaseLine="acme")
    await sync(client, headers, "Acme")
    await sync(client, headers, "Acme", "relationshiptypes")
    assert await objects_of(client, headers, "ACME__AHU") == {
        "ACME__feeds_Equipment_Equipment",
        "ACME__feeds_Equipment_Location",
        "ACME__hasPoint_Equipment_Point",
    }
    only_feeds = [
        {"relation": "feeds", "pairs": [{"source": "Equipment", "destination": "Equipment"}]}
    ]
    await publish(client, headers, release("2.0", relationshiptypes=only_feeds))
    await sync(client, headers, "Acme", "relationshiptypes", version="2.0")
    assert await objects_of(client, headers, "ACME__AHU") == {"ACME__feeds_Equipment_Equipment"}
    deleted = await client.delete(f"{API}/entitytypes/ACME__Building_Sensor", headers=headers)
    assert deleted.status == 200, await deleted.text()
    gone = await client.get(f"{GRAPH}/ACME__Building_Sensor", headers=headers)
    assert gone.status == 404


async def test_two_racing_posts_leave_one_whole_graph(
    client: TestClient, make_token: TokenFactory, services: Services, background_worker: None
) -> None:
    headers = bearer(await make_token("alice", *ALL_SCOPES))
    await publish(client, headers, release("1.0"))
    await create_collection(client, headers, "Acme", releaseLine="acme")
    await sync(client, headers, "Acme")
    await sync(client, headers, "Acme", "relationshiptypes")
    posting = {**headers, "schemaCollection": "Acme"}
    answers = await asyncio.gather(
        client.post("/apollo/ontology/entitytypes", json=[], headers=posting),
        client.post("/apollo/ontology/relationshiptypes", json=[], headers=posting),
    )
    tokens = [(await a.json())["data"]["token"] for a in answers]
    results = [await finished(client, headers, t) for t in tokens]
    assert [r["message"] for r in results] == [
        "Total number of Ontologies Posted:  8.",
        "Total number of Ontologies Posted:  3.",
    ]
    counts = await services.pool.fetchrow(
        "SELECT (SELECT count(*) FROM ontology_graphs) AS graphs,"
        " (SELECT count(*) FROM ontology_entity_types) AS types,"
        " (SELECT count(*) FROM ontology_objects) AS objects"
    )
    assert dict(counts) == {"graphs": 1, "types": 8, "objects": 3}
