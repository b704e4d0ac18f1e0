"""The graph pages' query forms over HTTP, on a real Brick model (G36 AHU + VAV, Brick 1.4)
loaded into an ER collection."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.brick_model import brick_schema_collection, load_model
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, register

NS = "BRICK_1_4"


async def get(client: TestClient, token: str, path: str, **headers: str) -> dict[str, Any]:
    response = await client.get(path, headers={**bearer(token), "ercollectionid": "g36", **headers})
    body = await response.json()
    assert response.status == 200, (path, body)
    return body


async def status_of(client: TestClient, token: str, path: str) -> int:
    response = await client.get(path, headers={**bearer(token), "ercollectionid": "g36"})
    return response.status


async def test_the_documented_forms_on_a_real_brick_model(
    client: TestClient, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    await brick_schema_collection(client, token, "Brick_1_4", "1.4")
    assert (await register(client, token, "g36", "Brick_1_4")).status == 201
    loaded = await load_model(client, token, "g36-combined-ahu-vav.ttl", "g36", "Brick_1_4")
    assert len(loaded["entities"]) > 40 and len(loaded["relationships"]) > 40

    everything = await get(client, token, "/apollo/graph/entities", first="10", after="0")
    assert everything["paging"]["totalCount"] == len(loaded["entities"])
    assert len(everything["data"]) == 10 and everything["paging"]["continuationToken"]
    following = await get(client, token, "/apollo/graph/entities", first="10",
                          after=everything["paging"]["continuationToken"])  # fmt: skip
    assert following["data"][0]["id"] > everything["data"][-1]["id"]

    (ahu,) = (await get(client, token, "/apollo/graph/entities(ahu1)"))["data"]
    assert ahu["entityType"] == f"{NS}__AHU" and ahu["brickEntityType"] == f"{NS}__Equipment"
    (same,) = (await get(client, token, "/apollo/graph/entities($filter=ahu1)"))["data"]
    assert same["id"] == "ahu1"
    two = await get(client, token, "/apollo/graph/entities(vav1,ahu1)")
    assert [e["id"] for e in two["data"]] == ["ahu1", "vav1"]
    rooms = await get(client, token, f"/apollo/graph/entities($select=eType:{NS}__Room)")
    assert [e["id"] for e in rooms["data"]] == ["room1", "room2"]
    by_path = await get(client, token, f"/apollo/graph/entities/{NS}__Room")
    assert by_path["data"] == rooms["data"]

    # All relationships from a source entity, grouped by type; totalCount counts them.
    ers = await get(client, token, "/apollo/graph/entities($filter=vav1)?$expand=rType:ALL&v=1.2")
    (vav,) = ers["data"]
    has_point = vav[f"{NS}__hasPoint_Equipment_Point"]
    assert sorted(r["destinationEntityId"] for r in has_point) == [
        "co2s1",
        "safs1",
        "sats1",
        "zts1",
    ]
    assert [r["destinationEntityId"] for r in vav[f"{NS}__feeds_Equipment_Location"]] == ["zone1"]
    assert ers["paging"]["totalCount"] == 4 + 2 + 1

    # One level: AHUs with the equipment they feed, typed VAV.
    feeds = f"{NS}__feeds_Equipment_Equipment"
    one = await get(client, token, f"/apollo/graph/entities($select=eType:{NS}__AHU)"
                    f"?$expand=rType:{feeds}($expand=eType:{NS}__VAV)")  # fmt: skip
    (root,) = one["data"]
    (edge,) = root[feeds]
    assert edge["sourceEntityId"] == "ahu1" and edge[f"{NS}__VAV"]["id"] == "vav1"
    # Two levels: ... and the zone each VAV feeds.
    zone_feeds = f"{NS}__feeds_Equipment_Location"
    two_levels = await get(
        client, token,
        f"/apollo/graph/entities($select=eType:{NS}__AHU)?$expand=rType:{feeds}"
        f"($expand=eType:{NS}__VAV($expand=rType:{zone_feeds}($expand=eType:{NS}__HVAC_Zone)))",
    )  # fmt: skip
    vav = two_levels["data"][0][feeds][0][f"{NS}__VAV"]
    assert vav[zone_feeds][0][f"{NS}__HVAC_Zone"]["id"] == "zone1"
    # An entity-type filter that matches nothing leaves the root without the relationship.
    none = await get(client, token, f"/apollo/graph/entities($select=eType:{NS}__AHU)"
                     f"?$expand=rType:{feeds}($expand=eType:{NS}__Room)")  # fmt: skip
    assert feeds not in none["data"][0]

    relationships = await get(client, token, "/apollo/graph/relationships", first="5")
    assert relationships["paging"]["totalCount"] == len(loaded["relationships"])
    typed = await get(client, token, f"/apollo/graph/relationships({'$'}select=rType:{feeds})")
    assert [r["id"] for r in typed["data"]] == ["ahu1-feeds-vav1"]
    assert (await get(client, token, f"/apollo/graph/relationships/{feeds}"))["data"] == typed[
        "data"
    ]
    (one_relationship,) = (
        await get(client, token, "/apollo/graph/relationships(ahu1-feeds-vav1)")
    )["data"]
    assert one_relationship["destinationEntityId"] == "vav1"

    for unsupported in (
        "/apollo/graph/entities($orderby=id)",
        "/apollo/graph/entities($select=rType:X)",
        "/apollo/graph/entities(ahu1)?$expand=eType:X",
        "/apollo/graph/entities(ahu1)?$expand=rType:X($expand=eType:Y",
        "/apollo/graph/entities(ahu1)?$top=3",
        "/apollo/graph/relationships(ahu1-feeds-vav1)?$expand=rType:ALL",
    ):
        response = await client.get(unsupported, headers={**bearer(token), "ercollectionid": "g36"})
        body = await response.json()
        assert response.status == 400, unsupported
        assert "Unsupported" in body["status"]["message"] or "expected" in body["status"]["message"]
    assert await status_of(client, token, "/apollo/graph/entities(nobody)") == 404

    # The search-query routes, answered from PostgreSQL.
    search = await client.post(
        "/apollo/graph/entities/search/query",
        data='{"query": {"bool": {"should": [{"match": {"entityType": "brick_1_4__room"}},'
        ' {"match": {"id": "ahu1"}}]}}}',
        headers={**bearer(token), "ercollectionid": "g36", "Content-Type": "text/plain"},
    )
    found = await search.json()
    assert search.status == 200, found
    assert [e["id"] for e in found["data"]] == ["ahu1", "room1", "room2"]
    assert found["data"][0]["ercollectionid"] == "g36"
    search = await client.post(
        "/apollo/graph/relationships/search/query",
        json={"query": {"bool": {"must": [{"term": {"sourceEntityId": "vav1"}}],
                                 "must_not": [{"prefix": {"relationshipType": f"{NS}__hasPoint"}}]}}},
        headers={**bearer(token), "ercollectionid": "g36"},
    )  # fmt: skip
    assert sorted(r["destinationEntityId"] for r in (await search.json())["data"]) == [
        "hw_coil", "vdmp1", "zone1",
    ]  # fmt: skip
    bad = await client.post(
        "/apollo/graph/entities/search/query",
        json={"query": {"fuzzy": {"id": "ahu"}}},
        headers={**bearer(token), "ercollectionid": "g36"},
    )
    assert bad.status == 400 and "fuzzy" in (await bad.json())["status"]["message"]
