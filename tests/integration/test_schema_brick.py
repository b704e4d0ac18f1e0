"""The newcomer's story on real Brick: Brick_1_4 on release 1.4, synced, listed by tag, moved to 1.5."""

from __future__ import annotations

import math
from typing import Any

from aiohttp.test_utils import TestClient

from shared.releases.catalog import ReleaseCatalog
from shared.schemas.catalog import current_type_schemas
from shared.schemas.sync import cache_dir
from shared.services import Services
from tests.conftest import TokenFactory
from tests.schema_helpers import API, admin_headers, create_collection, get_all, sync

NS = "BRICK_1_4__"


def named(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in entries}


def difference(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, set[str]]:
    """What moving from one release to the other must do, read straight off the two bundles."""
    before, after = named(old), named(new)
    return {
        "inserted": {NS + n for n in after.keys() - before.keys()},
        "updated": {NS + n for n in after.keys() & before.keys() if after[n] != before[n]},
        "inactivated": {NS + n for n in before.keys() - after.keys()},
    }


async def test_brick_1_4_synced_listed_by_tag_and_moved_to_1_5(
    client: TestClient, make_token: TokenFactory, services: Services, background_worker: None
) -> None:
    headers = await admin_headers(make_token)
    catalog = ReleaseCatalog(services.pool, cache_dir(services.settings))
    brick_14, brick_15 = await catalog.load("brick", "1.4"), await catalog.load("brick", "1.5")

    await create_collection(client, headers, "Brick_1_4", release="1.4")
    first = await sync(client, headers, "Brick_1_4")
    assert first["reason"] == (
        "Attempted '1430' schemas: inserted '1430' schemas, updated '0' schemas, '0' failed"
    )
    relationships = await sync(client, headers, "Brick_1_4", "relationshiptypes")
    assert relationships["inserted"] == len(brick_14["relationshiptypes"]) > 40
    assert "BRICK_1_4__feeds_Equipment_Equipment" in relationships["success"]
    assert "BRICK_1_4__hasPoint_Equipment_Point" in relationships["success"]

    tagged = sorted(NS + e["name"] for e in brick_14["entitytypes"] if "Building" in e["tags"])
    path = f"{API}/entitytypes/schemacollections/Brick_1_4/tags/Building"
    listed, pagings = await get_all(client, path, headers, size=10)
    assert [item["schema"]["title"] for item in listed] == tagged
    assert len(pagings) == math.ceil(len(tagged) / 10) and pagings[0]["totalCount"] == len(tagged)
    assert "BRICK_1_4__Building" in tagged

    expected = difference(brick_14["entitytypes"], brick_15["entitytypes"])
    moved = await sync(client, headers, "Brick_1_4", version="1.5")
    counts = {key: len(names) for key, names in expected.items()}
    assert moved["reason"] == (
        f"Attempted '1457' schemas: inserted '{counts['inserted']}' schemas, "
        f"updated '{counts['updated']}' schemas, '0' failed"
    )
    assert set(moved["success"]) == expected["inserted"] | expected["updated"]
    assert set(moved["inactivated"]) == expected["inactivated"]
    assert moved["release"] == {"releaseLine": "brick", "version": "1.5", "previousVersion": "1.4"}
    # Type ids keep the collection's namespace on the new release.
    assert all(type_id.startswith(NS) for type_id in moved["success"])

    stats = await client.get(f"{API}/schemacollections/Brick_1_4/stats", headers=headers)
    entity_stats = (await stats.json())["data"]["entitytypes"]
    assert entity_stats["active"] == 1457 and entity_stats["inactive"] == counts["inactivated"]
    again = await sync(client, headers, "Brick_1_4")
    assert (again["inserted"], again["updated"]) == (0, 0)


async def test_real_brick_relationship_types_check_real_entity_types(
    client: TestClient, make_token: TokenFactory, services: Services, background_worker: None
) -> None:
    headers = await admin_headers(make_token)
    await create_collection(client, headers, "Brick_1_4", release="1.4")
    await sync(client, headers, "Brick_1_4")
    await sync(client, headers, "Brick_1_4", "relationshiptypes")
    names = ["AHU", "VAV", "Supply_Air_Temperature_Sensor", "Room"]
    entities = await current_type_schemas(
        services.pool, "Brick_1_4", "entitytypes", [NS + n for n in names]
    )
    ahu, vav, sensor, room = (entities[NS + n] for n in names)
    relations = await current_type_schemas(
        services.pool,
        "Brick_1_4",
        "relationshiptypes",
        [
            NS + r
            for r in (
                "feeds_Equipment_Equipment",
                "hasPoint_Equipment_Point",
                "hasLocation_Equipment_Location",
            )
        ],
    )
    feeds = relations[NS + "feeds_Equipment_Equipment"]
    has_point = relations[NS + "hasPoint_Equipment_Point"]
    located = relations[NS + "hasLocation_Equipment_Location"]
    assert feeds.allows(ahu, vav) and not feeds.allows(ahu, sensor)
    assert has_point.allows(vav, sensor) and not has_point.allows(sensor, vav)
    assert located.allows(ahu, room) and not located.allows(room, ahu)

    pairs = await client.get(
        f"{API}/relationshiptypes/{NS}hasPoint_Equipment_Point/entitytypes", headers=headers
    )
    assert (await pairs.json())["data"] == [
        {"source": NS + "Equipment", "destination": NS + "Point"}
    ]
