"""Schema releases: Brick generated from brickschema's Brick.ttl, cached; published releases."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.releases import catalog as catalog_module
from shared.releases.bundle import MAX_ANCESTORS, MAX_PAIRS, MAX_PARENTS, normalise
from shared.releases.catalog import ReleaseCatalog
from shared.schemas.render import entity_schema, relationship_schema
from shared.schemas.sync import cache_dir
from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.schema_helpers import API, admin_headers, entity, publish, release

# Measured on the Brick.ttl files brickschema ships (api-notes, "Schema releases").
ENTITY_TYPE_COUNTS = {"1.1": 916, "1.2": 1136, "1.4": 1430, "1.5": 1457}


def by_name(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in entries}


async def test_brick_releases_have_the_measured_entity_type_counts(services: Services) -> None:
    catalog = ReleaseCatalog(services.pool, cache_dir(services.settings))
    assert list(await catalog.versions("brick")) == ["1.1", "1.2", "1.3", "1.4", "1.5"]
    for version, expected in ENTITY_TYPE_COUNTS.items():
        bundle = await catalog.load("brick", version)
        entities = bundle["entitytypes"]
        assert len(entities) == expected, version
        assert not [e for e in entities if "error" in e], version
        assert {e["topClass"] for e in entities} <= {
            "Point",
            "Equipment",
            "Location",
            "System",
            "Collection",
            "Measurable",
        }


async def test_brick_entity_types_carry_tags_parents_definition_and_deprecation(
    services: Services,
) -> None:
    bundle = await ReleaseCatalog(services.pool, cache_dir(services.settings)).load("brick", "1.4")
    entities = by_name(bundle["entitytypes"])
    ahu = entities["AHU"]
    assert ahu["topClass"] == "Equipment"
    assert "HVAC_Equipment" in ahu["parents"] and "Equipment" in ahu["ancestors"]
    # AHU is an alias of Air_Handling_Unit and carries its tags and definition.
    assert {"Air", "Handling", "Unit", "Equipment"} <= set(ahu["tags"])
    assert ahu["tags"] == entities["Air_Handling_Unit"]["tags"]
    assert ahu["definition"] and not ahu["deprecated"]
    assert any(e["deprecated"] for e in entities.values())
    assert "Building" in bundle["tags"] and len(bundle["tags"]) > 400
    schema = entity_schema("BRICK_1_4", ahu).schema
    assert schema is not None
    assert schema["title"] == "BRICK_1_4__AHU"
    assert schema["required"] == ["id", "entityType", "entityName"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["brickEntityType"]["default"] == "BRICK_1_4__Equipment"
    assert schema["properties"]["brickEntitySubType"]["default"] == "BRICK_1_4__AHU"
    # Brick class names hold dots and dashes; they are valid type names.
    assert "PM2.5_Sensor" in entities


async def test_brick_relationship_types_come_from_domain_range_facts(services: Services) -> None:
    bundle = await ReleaseCatalog(services.pool, cache_dir(services.settings)).load("brick", "1.4")
    relations = by_name(bundle["relationshiptypes"])
    feeds = relations["feeds_Equipment_Equipment"]
    assert (feeds["relation"], feeds["source"], feeds["destination"]) == (
        "feeds",
        "Equipment",
        "Equipment",
    )
    assert {"source": "Equipment", "destination": "Equipment"} in feeds["pairs"]
    assert relations["hasPoint_Equipment_Point"]["pairs"] == [
        {"source": "Equipment", "destination": "Point"}
    ]
    # Inverses are included: isFedBy from feeds, isPointOf from hasPoint.
    assert "isFedBy_Equipment_Equipment" in relations
    assert {"isPointOf_Point_Equipment", "isPointOf_Point_Location"} <= set(relations)
    # Ontology bookkeeping relations (aliasOf, isReplacedBy) are not entity relationships.
    assert not [name for name in relations if name.startswith(("aliasOf", "isReplacedBy"))]
    schema = relationship_schema("BRICK_1_4", feeds).schema
    assert schema is not None
    # The ER service derives these when it writes a relationship, so they agree with what it stores.
    assert schema["properties"]["brickRelationshipType"]["default"] == "BRICK_1_4__" + feeds["name"]
    assert "default" not in schema["properties"]["brickSourceEntityType"]
    assert schema["required"] == ["id", "sourceEntityId", "destinationEntityId", "relationshipType"]


async def test_a_brick_release_is_parsed_once_then_served_from_the_database(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = ReleaseCatalog(services.pool, cache_dir(services.settings))
    first = await catalog.load("brick", "1.5")
    row = await services.pool.fetchrow(
        "SELECT origin, entity_type_count FROM schema_releases WHERE version = '1.5'"
    )
    assert (row["origin"], row["entity_type_count"]) == ("builtin", 1457)

    def no_parsing(*args: object) -> None:
        raise AssertionError("the release was parsed again")

    monkeypatch.setattr(catalog_module, "_generate_brick", no_parsing)
    catalog_module.forget_memory()
    again = await ReleaseCatalog(services.pool, None).load("brick", "1.5")
    assert again == first


async def test_release_list_shows_builtin_brick_and_published_lines(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    await publish(client, headers, release("1.0"))
    response = await client.get(f"{API}/releases", headers=headers)
    assert response.status == 200
    listed = {(r["releaseLine"], r["version"]): r for r in (await response.json())["data"]}
    assert {("brick", v) for v in ("1.1", "1.2", "1.3", "1.4", "1.5")} <= set(listed)
    acme = listed[("acme", "1.0")]
    assert (acme["origin"], acme["entitytypes"], acme["relationshiptypes"]) == ("published", 8, 3)


async def test_publishing_is_idempotent_and_releases_are_immutable(
    client: TestClient, make_token: TokenFactory
) -> None:
    headers = await admin_headers(make_token)
    first = await client.post(f"{API}/releases", json=release("1.0"), headers=headers)
    assert first.status == 201
    again = await client.post(f"{API}/releases", json=release("1.0"), headers=headers)
    assert again.status == 200
    changed = release("1.0", entitytypes=[entity("Equipment")])
    conflict = await client.post(f"{API}/releases", json=changed, headers=headers)
    assert conflict.status == 409
    body = await conflict.json()
    assert body["status"]["code"] == "409" and "immutable" in body["status"]["message"]


@pytest.mark.parametrize(
    ("bundle", "fragment"),
    [
        ([], "JSON object"),
        ({"version": "1.0"}, "releaseLine"),
        ({"releaseLine": "acme"}, "version"),
        ({"releaseLine": "brick", "version": "9.9"}, "built in"),
        ({"releaseLine": "acme", "version": "1", "entitytypes": {}}, "list of objects"),
        ({"releaseLine": "acme", "version": "1", "entitytypes": [{}]}, "'name'"),
        (
            {"releaseLine": "acme", "version": "1", "entitytypes": [entity("A"), entity("A")]},
            "repeat",
        ),
        ({"releaseLine": "acme", "version": "1", "relationshiptypes": [{}]}, "'relation'"),
    ],
)
async def test_malformed_bundles_are_refused(
    client: TestClient, make_token: TokenFactory, bundle: Any, fragment: str
) -> None:
    headers = await admin_headers(make_token)
    response = await client.post(f"{API}/releases", json=bundle, headers=headers)
    assert response.status == 400
    assert fragment in (await response.json())["status"]["message"]


async def test_publishing_needs_the_admin_scope(
    client: TestClient, make_token: TokenFactory
) -> None:
    reader = bearer(await make_token("bob", "apollo_read", "apollo_write"))
    response = await client.post(f"{API}/releases", json=release("1.0"), headers=reader)
    assert response.status == 403
    assert (await response.json())["status"]["code"] == "403"


def test_normalising_keeps_bad_entries_with_their_reason() -> None:
    bundle = release(
        "2.0",
        entitytypes=[
            entity("Equipment"),
            entity("Orphan", "Missing_Parent"),
            entity("Bad Name"),
            entity("Loop_A", "Loop_B"),
            entity("Loop_B", "Loop_A"),
        ],
        relationshiptypes=[
            {"relation": "feeds", "pairs": [{"source": "Equipment", "destination": "Nowhere"}]},
            {"relation": "hasPart", "pairs": [{"source": "Equipment", "destination": "Equipment"}]},
        ],
    )
    normalised = normalise(bundle)
    errors = {e["name"]: e.get("error", "") for e in normalised["entitytypes"]}
    assert errors["Equipment"] == ""
    assert "Missing_Parent" in errors["Orphan"]
    assert "must match" in errors["Bad Name"]
    assert "cycle" in errors["Loop_A"] and "cycle" in errors["Loop_B"]
    relations = by_name(normalised["relationshiptypes"])
    assert "Nowhere" in relations["feeds"]["error"]
    assert relations["hasPart_Equipment_Equipment"]["pairs"] == [
        {"source": "Equipment", "destination": "Equipment"}
    ]


def test_pairs_a_broader_pair_already_admits_are_dropped() -> None:
    normalised = normalise(release("1.0"))
    relations = by_name(normalised["relationshiptypes"])
    # (AHU, Building) is Equipment -> Location: a type of its own; within feeds_Equipment_Equipment
    # only the broad pair is needed.
    assert relations["feeds_Equipment_Location"]["pairs"] == [
        {"source": "AHU", "destination": "Building"}
    ]
    assert relations["feeds_Equipment_Equipment"]["pairs"] == [
        {"source": "Equipment", "destination": "Equipment"}
    ]
    merged = release(
        "1.1",
        relationshiptypes=[
            {
                "relation": "feeds",
                "pairs": [
                    {"source": "AHU", "destination": "HVAC_Equipment"},
                    {"source": "Equipment", "destination": "Equipment"},
                ],
            }
        ],
    )
    assert by_name(normalise(merged)["relationshiptypes"])["feeds_Equipment_Equipment"][
        "pairs"
    ] == [{"source": "Equipment", "destination": "Equipment"}]


def test_hierarchies_and_pairs_are_bounded_so_normalising_stays_fast() -> None:
    chain = [entity("Equipment")] + [
        entity(f"E{i}", f"E{i - 1}" if i else "Equipment") for i in range(15000)
    ]
    wide = entity("Wide", *[f"E{i}" for i in range(MAX_PARENTS + 1)])
    leaves = [entity(f"Leaf{i}", "Equipment") for i in range(MAX_PAIRS + 1)]
    pairs = [{"source": f"Leaf{i}", "destination": "Equipment"} for i in range(MAX_PAIRS + 1)]
    bundle = release(
        "3.0",
        entitytypes=[*chain, wide, *leaves],
        relationshiptypes=[
            {"relation": "feeds", "pairs": pairs[:MAX_PAIRS]},
            {"relation": "feeds", "pairs": pairs[MAX_PAIRS:]},
            {"relation": "hasPart", "pairs": pairs},
        ],
    )
    started = time.perf_counter()
    normalised = normalise(bundle)
    assert time.perf_counter() - started < 10
    errors = {e["name"]: e.get("error", "") for e in normalised["entitytypes"]}
    assert errors[f"E{MAX_ANCESTORS - 1}"] == ""  # Equipment and E0..E126 above it
    assert errors[f"E{MAX_ANCESTORS}"] == f"more than {MAX_ANCESTORS} ancestors"
    assert "invalid parent" in errors[f"E{MAX_ANCESTORS + 1}"]
    assert errors["Wide"] == f"at most {MAX_PARENTS} parents"
    relations = by_name(normalised["relationshiptypes"])
    assert relations["hasPart"]["error"] == f"at most {MAX_PAIRS} pairs per relation"
    assert relations["feeds_Equipment_Equipment"]["error"] == f"more than {MAX_PAIRS} pairs"
