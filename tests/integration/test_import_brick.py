"""``brickyard import brick`` and ``export brick``: real Brick models in, Turtle back out."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import rdflib
from aiohttp.test_utils import TestClient
from rdflib import RDF, RDFS

from shared.importer.brick import TRIPLE_NAMESPACE, is_brick
from shared.services import Services
from tests.conftest import bearer
from tests.import_helpers import BRICK_MODELS, Cli, count_rows, live_cli, read_ndjson

BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")


async def brick_collection(client: TestClient, cli: Cli, name: str) -> None:
    """Schema collection Brick_1_4 synced to the real Brick 1.4, and an ER collection on it."""
    headers = bearer(cli.token)
    response = await client.post(
        "/apollo/schema/schemacollections",
        json={"schemaCollectionId": "Brick_1_4", "release": "1.4"},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    for schema_type in ("entitytypes", "relationshiptypes"):
        response = await client.post(
            "/apollo/schema/sync",
            json={"schemaType": schema_type, "schemaCollectionId": "Brick_1_4"},
            headers=headers,
        )
        assert response.status == 200, await response.text()
    response = await client.post(
        "/apollo/er/ercollections",
        json={"erCollectionId": name, "schemaCollectionId": "Brick_1_4"},
        headers=headers,
    )
    assert response.status == 201, await response.text()


def model_items(path: Path) -> tuple[set[str], set[str]]:
    """The model's Brick-typed nodes, and the ids its relation triples between them get."""
    graph = rdflib.Graph().parse(path)
    nodes = {str(n) for n, kind in graph.subject_objects(RDF.type) if is_brick(kind)}
    triples = {
        str(uuid.uuid5(TRIPLE_NAMESPACE, f"{s} {p} {o}"))
        for s, p, o in graph
        if is_brick(p) and str(s) in nodes and str(o) in nodes
    }
    return nodes, triples


@pytest.mark.parametrize("model", ["rice_brick.ttl", "g36-combined-ahu-vav.ttl"])
async def test_every_item_of_a_real_model_is_stored_or_failed_with_a_reason(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path, model
) -> None:
    cli = await live_cli(client, make_token)
    await brick_collection(client, cli, "building")
    failures = tmp_path / "failed.ndjson"
    source = BRICK_MODELS / model
    code, out, err = await cli.run(
        "import", "brick", str(source), "--ercollection", "building", "--failures", str(failures),
        "--journal", str(tmp_path / "journal"),
    )  # fmt: skip
    print(out, err)
    assert code == 0, err
    nodes, triples = model_items(source)
    pool = services.pool
    stored_nodes = {r["id"] for r in await pool.fetch("SELECT id FROM er_entities")}
    stored_triples = {r["id"] for r in await pool.fetch("SELECT id FROM er_relationships")}
    failed = read_ndjson(failures)
    assert all(f["reason"] for f in failed)
    failed_ids = {f["id"] for f in failed}
    assert stored_nodes | (failed_ids & nodes) == nodes
    assert stored_triples | (failed_ids & triples) == triples
    assert not stored_nodes & failed_ids
    assert stored_nodes and stored_triples
    if model == "rice_brick.ttl":  # Brick 1.0.2 names: some classes and relations are gone
        reasons = " ".join(f["reason"] for f in failed)
        assert "is not a class of schema collection Brick_1_4" in reasons
        assert "was not imported: class" in reasons  # a relation to a refused node
    else:
        assert failed == []

    # A second import updates in place: the same ids, nothing new.
    code, out, err = await cli.run(
        "import", "brick", str(source), "--ercollection", "building",
        "--journal", str(tmp_path / "journal2"),
    )  # fmt: skip
    assert code == 0, err
    assert await count_rows(pool, "er_entities", "building") == len(stored_nodes)
    assert await count_rows(pool, "er_relationships", "building") == len(stored_triples)

    # The export parses back with rdflib and holds the imported nodes, types and relations.
    exported = tmp_path / "export.ttl"
    code, _, err = await cli.run(
        "export", "brick", "--ercollection", "building", "-o", str(exported)
    )
    assert code == 0, err
    graph = rdflib.Graph().parse(exported, format="turtle")
    model_graph = rdflib.Graph().parse(source)
    for node in stored_nodes:
        kinds = set(graph.objects(rdflib.URIRef(node), RDF.type))
        assert len(kinds) == 1 and kinds <= set(model_graph.objects(rdflib.URIRef(node), RDF.type))
        assert graph.value(rdflib.URIRef(node), RDFS.label) is not None
    relations = [(s, p, o) for s, p, o in graph if p != RDF.type and p != RDFS.label]
    assert len(relations) == len(stored_triples)
    assert all((s, p, o) in model_graph for s, p, o in relations)


async def test_export_validates_with_brick_shapes(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    await brick_collection(client, cli, "plant")
    source = BRICK_MODELS / "chiller-plant.ttl"
    code, _, err = await cli.run(
        "import", "brick", str(source), "--ercollection", "plant",
        "--journal", str(tmp_path / "journal"),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = await cli.run("export", "brick", "--ercollection", "plant", "--validate")
    assert code in (0, 3), err
    assert "SHACL" in err or "Validation Report" in err
    assert rdflib.Graph().parse(data=out, format="turtle")
