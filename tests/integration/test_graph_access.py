"""Reachability with cycles in the data, and the access rules of graph reads: the collection's
roles as for ER reads, and cross-collection relationships followed only into collections the
caller can read."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    entity,
    put_grants,
    relationship,
    two_collections,
    upsert_ok,
)

FEEDS = "feeds_Equipment_Equipment"


async def cyclic(client: TestClient, services: Services, token: str) -> str:
    """a -> b -> c -> a (a cycle), c -> d, d -> x in c2; and e -> a feeding into the cycle."""
    ns = await two_collections(client, services.pool, token, "c1", "c2")
    await upsert_ok(client, token, "entities", "c1", [entity(ns, i, "AHU") for i in "abcde"])
    await upsert_ok(client, token, "entities", "c2", [entity(ns, "x", "AHU")])
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "a")]
    await upsert_ok(client, token, "relationships", "c1", [
        *(relationship(ns, f"{s}{d}", FEEDS, s, d) for s, d in edges),
        relationship(ns, "dx", FEEDS, "d", "x", sourceERCollectionId="c1",
                     destinationERCollectionId="c2"),
    ])  # fmt: skip
    return ns


async def reach(client: TestClient, token: str, query: str, expect: int = 200) -> dict[str, Any]:
    response = await client.get(
        f"/apollo/graph/entities(a)/reachable?{query}",
        headers={**bearer(token), "ercollectionid": "c1"},
    )
    body = await response.json()
    assert response.status == expect, body
    return body


async def test_reachability_ends_on_cycles_and_gives_the_path_to_each_entity(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await cyclic(client, services, token)
    body = await reach(client, token, "relationshipType=feeds&direction=out&maxDepth=10")
    found = [(e["erCollectionId"], e["id"], e["depth"]) for e in body["data"]]
    assert found == [("c1", "b", 1), ("c1", "c", 2), ("c1", "d", 3), ("c2", "x", 4)]
    path = body["data"][-1]["path"]
    assert [step["relationshipId"] for step in path] == ["ab", "bc", "cd", "dx"]
    assert path[-1]["destinationERCollectionId"] == "c2"
    assert body["data"][-1]["entity"]["entityType"] == f"{ns}__AHU"
    assert body["paging"]["totalCount"] == 4
    # Inward: what feeds a, through the cycle, nearest first; maxDepth bounds it.
    inward = await reach(client, token, "direction=in&maxDepth=2")
    assert [(e["id"], e["depth"]) for e in inward["data"]] == [("c", 1), ("e", 1), ("b", 2)]
    assert [s["relationshipId"] for s in inward["data"][-1]["path"]] == ["ca", "bc"]
    # Paged; the full type id works as a filter, another type finds nothing.
    first = await client.get(
        f"/apollo/graph/entities(a)/reachable?relationshipType={ns}__{FEEDS}",
        headers={**bearer(token), "ercollectionid": "c1", "first": "3"},
    )
    page = await first.json()
    assert [e["id"] for e in page["data"]] == ["b", "c", "d"]
    rest = await client.get(
        f"/apollo/graph/entities(a)/reachable?relationshipType={ns}__{FEEDS}",
        headers={**bearer(token), "ercollectionid": "c1", "first": "3",
                 "after": page["paging"]["continuationToken"]},
    )  # fmt: skip
    assert [e["id"] for e in (await rest.json())["data"]] == ["x"]
    assert (await reach(client, token, "relationshipType=isFedBy"))["data"] == []
    for bad in ("direction=up", "maxDepth=0", "maxDepth=101", "maxDepth=x"):
        await reach(client, token, bad, expect=400)


async def test_graph_reads_follow_the_er_access_rules(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    ns = await cyclic(client, services, alice)
    bob = await make_token("bob", "apollo_read")
    await put_grants(client, alice, "c1", bob="readonly")

    # bob reads c1 but not c2: the walk stops at the collection boundary.
    body = await reach(client, bob, "maxDepth=10")
    assert [e["id"] for e in body["data"]] == ["b", "c", "d"]
    expand = f"/apollo/graph/entities($filter=d)?$expand=rType:{ns}__{FEEDS}($expand=eType:ALL)"
    for token, seen in ((alice, True), (bob, False)):
        response = await client.get(expand, headers={**bearer(token), "ercollectionid": "c1"})
        (d,) = (await response.json())["data"]
        assert (f"{ns}__{FEEDS}" in d) is seen
    # rType:ALL lists c1's own relationships, the one into c2 included (it is c1's data).
    response = await client.get("/apollo/graph/entities($filter=d)?$expand=rType:ALL",
                                headers={**bearer(bob), "ercollectionid": "c1"})  # fmt: skip
    (d,) = (await response.json())["data"]
    assert [r["id"] for r in d[f"{ns}__{FEEDS}"]] == ["dx"]

    mallory = await make_token("mallory", *ALL_SCOPES)
    no_scope = await make_token("bob", "apollo_write")
    for token, collection, status in (
        (bob, "c2", 403),
        (mallory, "c1", 403),
        (no_scope, "c1", 403),
    ):
        for path in ("/apollo/graph/entities", "/apollo/graph/entities(a)/reachable",
                     "/apollo/graph/relationships(ab)"):  # fmt: skip
            response = await client.get(
                path, headers={**bearer(token), "ercollectionid": collection}
            )
            assert response.status == status, (path, collection)
    search = await client.post(
        "/apollo/graph/entities/search/query",
        json={"query": {"match_all": {}}},
        headers={**bearer(bob), "ercollectionid": "c1,c2"},
    )
    assert search.status == 403
    response = await client.get("/apollo/graph/entities", headers=bearer(alice))
    assert response.status == 400
