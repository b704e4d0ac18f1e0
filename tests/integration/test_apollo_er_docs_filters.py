"""getEntities examples 2 to 5 replayed: version 1.2 entities with labels and GeoJSON, the
docs' $filter and $orderby forms, and what is refused (a 400 naming it, never unfiltered data)."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.apollo_docs_helpers import (
    DOCS,
    ENTITIES,
    GEO_BUILDINGS,
    NS,
    SQUARE,
    doc_entity,
    docs_headers,
    filtered,
    ok,
    point,
    polygon,
    world,
)
from tests.conftest import TokenFactory
from tests.er_helpers import upsert_ok

# getEntities examples 2 to 5: version 1.2 entities with labels and GeoJSON.


async def test_get_entities_filters(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    await upsert_ok(client, token, "entities", DOCS, GEO_BUILDINGS)
    labels = "labels/any(d:d eq 'BRICK_0_4__Building') or labels/any(d:d eq 'BRICK_0_4__Point')"
    assert await filtered(client, token, "$filter=" + quote(labels)) == [
        "TestEntity_8989",
        "TestEntity_8992",
    ]
    both = "labels/any(d:d eq 'BRICK_0_4__Building') and labels/any(d:d eq 'BRICK_0_4__Point')"
    assert await filtered(client, token, "$filter=" + quote(both)) == []
    exact = "geolocation eq Point((32, -4.7))"
    assert await filtered(client, token, "$filter=" + quote(exact)) == ["TestEntity_8989"]
    inside = "intersects(geoBoundary, Point((31.9, -4.8)))"
    assert await filtered(client, token, "$filter=" + quote(inside)) == [
        "TestEntity_8989",
        "TestEntity_8990",
    ]
    within = "intersects(geoLocation, Polygon((31.8,-5),( 32,-5),(32,-4.7),(31.8,-4.7),(31.8,-5)))"
    assert await filtered(client, token, "$filter=" + quote(within)) == [
        "TestEntity_8989",
        "TestEntity_8990",
    ]
    nearest = await filtered(
        client, token, "$orderby=" + quote(" distanceto (geoLocation, Point((31.8,-5)))")
    )
    # Nearest first; entities without a geoLocation come last.
    assert nearest[:2] == ["TestEntity_8990", "TestEntity_8989"]
    assert set(nearest[2:4]) == {"TestEntity_8991", "TestEntity_8992"}
    both = "$filter=" + quote("not labels/any(d:d eq 'BRICK_0_4__Point') and " + inside)
    both += "&$orderby=" + quote("distanceto(geoLocation, Point((31.8,-5))) desc")
    assert await filtered(client, token, both) == ["TestEntity_8989", "TestEntity_8990"]
    response = await client.get("/apollo/er/entities/TestEntity_8989", headers=docs_headers(token))
    [item] = (await ok(response))["data"]
    assert item["labels"] == GEO_BUILDINGS[0]["labels"]
    assert "schemaMetadata" not in item and "version" not in item
    # With v=1.2 an entity also shows the examples' schemaMetadata and version.
    response = await client.get(
        "/apollo/er/entities/TestEntity_8989?v=1.2", headers=docs_headers(token)
    )
    [item] = (await ok(response))["data"]
    assert item["version"] == 1
    assert item["schemaMetadata"] == {
        "entityType": f"{NS}__Building",
        "rootEntityType": f"{NS}__Location",
        "schemaCollectionId": "Brick_0_4",
        "entityIsSubClassOf": [f"{NS}__Location"],
        "tags": [],
    }


async def test_distance_order_pages_with_the_token(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    await upsert_ok(client, token, "entities", DOCS, GEO_BUILDINGS)
    order = "$orderby=" + quote("distanceto(geoLocation, Point((31.8,-5)))")
    seen, continuation = [], None
    while True:
        headers = docs_headers(token, PageSize="3")
        if continuation:
            headers["continuationToken"] = continuation
        body = await ok(await client.get(f"/apollo/er/entities?{order}", headers=headers))
        seen += [item["id"] for item in body["data"]]
        continuation = body["paging"]["continuationToken"]
        if continuation is None:
            break
    assert len(seen) == len(set(seen)) == len(ENTITIES) + len(GEO_BUILDINGS)
    assert seen[:2] == ["TestEntity_8990", "TestEntity_8989"]
    # A token is bound to its query: replayed without the $orderby it is refused.
    first = await ok(
        await client.get(f"/apollo/er/entities?{order}", headers=docs_headers(token, PageSize="3"))
    )
    headers = docs_headers(token, continuationToken=first["paging"]["continuationToken"])
    assert (await client.get("/apollo/er/entities", headers=headers)).status == 400


async def test_unsupported_filters_are_a_400_naming_them(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    headers = docs_headers(token)
    for query, named in (
        ("$filter=" + quote("entityName eq 'x'"), "entityName"),
        ("$filter=" + quote("labels/any(d:d eq 'x') xor true"), "xor"),
        ("$filter=" + quote("geolocation eq Point((1, 2)"), "ends"),
        ("$filter=" + quote("(" * 40 + "labels/any(d:d eq 'x')" + ")" * 40), "nested"),
        ("$top=5", "$top"),
        ("$orderby=" + quote("entityName"), "entityName"),
        ("$filter=", "$filter"),
        ("$filter=" + quote("labels/any(d:d eq 'a\x00b')"), "cannot be stored"),
    ):
        response = await client.get(f"/apollo/er/entities?{query}", headers=headers)
        body = await response.json()
        assert response.status == 400, (query, body)
        assert named in body["status"]["message"], (query, body)
    response = await client.get(
        "/apollo/er/relationships?$filter=" + quote("labels/any(d:d eq 'x')"), headers=headers
    )
    assert (
        response.status == 400 and "relationships" in (await response.json())["status"]["message"]
    )
    for size in ("0", "1001", "+5", "5.0"):
        response = await client.get("/apollo/er/entities", headers={**headers, "PageSize": size})
        assert response.status == 400, size
    for size in ("+5", " 5", "\u0665"):  # the same rule for the size parameter
        response = await client.get(f"/apollo/er/entities?size={quote(size)}", headers=headers)
        assert response.status == 400, size


async def test_malformed_labels_and_geometry_fail_their_item(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await world(client, services, make_token)
    cases = {
        "labels-text": ({"labels": "BRICK_0_4__Building"}, "labels must be a list"),
        "labels-numbers": ({"labels": [1, 2]}, "labels must be a list"),
        "location-polygon": ({"geoLocation": polygon(*SQUARE)}, "geoLocation must be GeoJSON"),
        "boundary-point": ({"geoBoundary": point(1, 2)}, "geoBoundary must be GeoJSON"),
        "boundary-text": (
            {"geoBoundary": {"type": "Polygon", "coordinates": "coordinates"}},
            "geoBoundary must be GeoJSON",
        ),
    }
    items = [doc_entity(i, "Building", i, **fields) for i, (fields, _) in cases.items()]
    items.append(
        doc_entity(
            "bare-point", "Building", "b", geoLocation={"type": "Point", "coordinates": [1, 2]}
        )
    )
    response = await client.post(
        "/apollo/er/entities", json=items, headers=docs_headers(token, **{"async": "false"})
    )
    body = await ok(response, 207)
    reasons = {f["id"]: f["message"] for f in body["data"]["responses"]["failure"]}
    assert list(reasons) == list(cases)
    for item_id, (_, expected) in cases.items():
        assert expected in reasons[item_id], (item_id, reasons[item_id])
    exact = "geolocation eq Point((1, 2))"
    assert await filtered(client, token, "$filter=" + quote(exact)) == ["bare-point"]
