"""``brickyard import brick`` and ``export brick``: real Brick models in, Turtle back out."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import rdflib
from aiohttp.test_utils import TestClient
from rdflib import RDF, RDFS, BNode

from shared.importer.brick import is_brick
from shared.importer.plan import TRIPLE_NAMESPACE, term_text
from shared.services import Services
from tests.conftest import bearer
from tests.import_helpers import BRICK_MODELS, Cli, count_rows, live_cli, read_ndjson

BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
KINDS = ("entity", "relationship", "skipped")
COUNTS = ("read", "stored", "refused", "refusedBeforeSending", "refusedByServer")


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


SUMMARY = {
    "triples": re.compile(
        r"summary: triples: (\d+) read = (\d+) in entities \+ (\d+) in relationships \+ (\d+) skipped"
    ),
    "entities": re.compile(
        r"summary: entities: (\d+) read = (\d+) stored \+ (\d+) refused "
        r"\((\d+) before sending, (\d+) by the server\)"
    ),
    "relationships": re.compile(
        r"summary: relationships: (\d+) read = (\d+) stored \+ (\d+) refused "
        r"\((\d+) before sending, (\d+) by the server\)"
    ),
}
MODELS = sorted(path.name for path in BRICK_MODELS.glob("*.ttl"))


def printed(out: str) -> dict[str, list[int]]:
    """The summary's numbers, each line found once."""
    found = {kind: [m.groups() for m in pattern.finditer(out)] for kind, pattern in SUMMARY.items()}
    assert all(len(v) == 1 for v in found.values()), out
    return {kind: [int(n) for n in v[0]] for kind, v in found.items()}


def term_id(terms: list[str]) -> str:
    return str(uuid.uuid5(TRIPLE_NAMESPACE, " ".join(terms)))


def blank(terms: list[str]) -> tuple[str, ...]:
    """A triple with its blank nodes' labels left out: each parse of a model labels them anew."""
    return tuple("_:" if t.startswith("_:") else t for t in terms)


def place_of(triple: tuple[Any, Any, Any], nodes: set[str], found: dict[str, Any]) -> str:
    """Where the import says a triple went: a relationship, skipped, or (by elimination) an
    entity's class or name; "nowhere" is a silent drop."""
    as_relationship = term_id([str(t) for t in triple])
    as_skipped = [term_text(t) for t in triple]
    if any(isinstance(t, BNode) for t in triple):
        skipped = found["blank"][blank(as_skipped)] > 0
        found["blank"][blank(as_skipped)] -= 1
    else:
        skipped = term_id(as_skipped) in found["skipped"]
    places = [
        kind for kind, here in (
            ("relationship", as_relationship in found["relationships"]),
            ("skipped", skipped),
        ) if here
    ]  # fmt: skip
    if not places and triple[1] in (RDF.type, RDFS.label) and str(triple[0]) in nodes:
        places = ["entity"]
    assert len(places) <= 1, (triple, places)
    return places[0] if places else "nowhere"


def model_nodes(path: Path) -> set[str]:
    graph = rdflib.Graph().parse(path)
    return {str(n) for n, kind in graph.subject_objects(RDF.type) if is_brick(kind)}


@pytest.mark.parametrize("model", MODELS)
async def test_every_triple_of_a_real_model_is_stored_refused_or_skipped_and_the_counts_add_up(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path, model
) -> None:
    """Issue 20, finding 3: every model of the reference folder; the summary printed and in the
    journals adds up, and matches what was stored and what the failures file says."""
    cli = await live_cli(client, make_token, tmp_path / "home")
    await brick_collection(client, cli, "building")
    failures = tmp_path / "failed.ndjson"
    source = BRICK_MODELS / model
    beside = set(BRICK_MODELS.iterdir())
    code, out, err = await cli.run(
        "import", "brick", str(source), "--ercollection", "building", "--failures", str(failures),
    )  # fmt: skip
    print(out, err)
    assert code == 0, err
    pool = services.pool
    model_graph = rdflib.Graph().parse(source)
    nodes = model_nodes(source)
    counts = printed(out)
    triples, entities, relationships = (
        counts["triples"],
        counts["entities"],
        counts["relationships"],
    )
    assert triples[0] == len(model_graph) == sum(triples[1:])
    for read, stored, refused, before, by_server in (entities, relationships):
        assert read == stored + refused and refused == before + by_server
    stored_nodes = {r["id"] for r in await pool.fetch("SELECT id FROM er_entities")}
    stored_triples = {r["id"] for r in await pool.fetch("SELECT id FROM er_relationships")}
    assert entities[0] == len(nodes) and entities[1] == len(stored_nodes)
    assert relationships[1] == len(stored_triples) and relationships[0] == triples[2]

    failed = read_ndjson(failures)
    assert all(f["reason"] for f in failed)
    ids = {kind: {f["id"] for f in failed if f.get("kind") == kind} for kind in KINDS}
    assert len(ids["entity"]) == entities[3] and len(ids["relationship"]) == relationships[3]
    assert len(ids["skipped"]) == triples[3]
    assert stored_nodes | ids["entity"] == nodes and not stored_nodes & ids["entity"]
    found = {
        "relationships": stored_triples | ids["relationship"],
        "skipped": ids["skipped"],
        "blank": Counter(blank(f["triple"]) for f in failed if f.get("kind") == "skipped"),
    }
    places = Counter(place_of(t, nodes, found) for t in model_graph)
    assert places["nowhere"] == 0
    assert places["relationship"] == triples[2] and places["skipped"] == triples[3]
    assert places["entity"] == triples[1]

    # The journals (under the data dir, nothing beside the model) end with the same summary.
    assert set(BRICK_MODELS.iterdir()) == beside
    journals = cli.journals()
    assert [j.name.rsplit("-", 1)[-1] for j in journals] == ["entities", "relationships"]
    for journal in journals:
        last = orjson.loads(journal.read_bytes().splitlines()[-1])["summary"]
        assert [last["entities"][k] for k in COUNTS] == entities
        assert [last["relationships"][k] for k in COUNTS] == relationships
        assert sum(last["skipped"].values()) == triples[3]

    if model == "rice_brick.ttl":  # Brick 1.0.2 names: some classes and relations are gone
        assert relationships[:3] == [718, 676, 42]  # 4 of the 42 were silent drops before
        reasons = {f["reason"] for f in failed}
        for n in (5, 6, 7, 8):
            assert f"rice:AHU_{n} has no Brick class in the model (it has no rdf:type)" in reasons
        assert any("is not a class of schema collection Brick_1_4" in r for r in reasons)
        assert any("was not imported: class" in r for r in reasons)  # an end that was refused
        # Resumed after it ended: nothing is sent again, the same summary is printed and kept.
        code, out, err = await cli.run(
            "import", "brick", str(source), "--ercollection", "building", "--resume",
            "--failures", str(failures),
        )  # fmt: skip
        assert code == 0 and printed(out) == counts, err
        assert "done in an earlier run" in out and len(read_ndjson(failures)) == len(failed)
        assert cli.journals() == journals
        assert all(j.read_bytes().count(b'"summary"') == 2 for j in journals)
    if model.startswith(("g36-", "chiller")):
        assert entities[2] == relationships[2] == 0

    # A second import updates in place: the same ids, nothing new.
    code, out, err = await cli.run(
        "import", "brick", str(source), "--ercollection", "building",
        "--journal", str(tmp_path / "journal2"),
    )  # fmt: skip
    assert code == 0, err
    assert printed(out) == counts
    assert await count_rows(pool, "er_entities", "building") == len(stored_nodes)
    assert await count_rows(pool, "er_relationships", "building") == len(stored_triples)

    # The export parses back with rdflib and holds the imported nodes, types and relations.
    exported = tmp_path / "export.ttl"
    code, _, err = await cli.run(
        "export", "brick", "--ercollection", "building", "-o", str(exported)
    )
    assert code == 0, err
    graph = rdflib.Graph().parse(exported, format="turtle")
    # A deprecated class is stored as its replacement (issue 22), as the summary lines say.
    renamed = dict(re.findall(r"deprecated class brick:(\w+) as brick:(\w+)", out))
    for node in stored_nodes:
        kinds = set(graph.objects(rdflib.URIRef(node), RDF.type))
        given = set(model_graph.objects(rdflib.URIRef(node), RDF.type))
        given |= {BRICK[renamed[str(k).rsplit("#", 1)[-1]]] for k in given
                  if str(k).rsplit("#", 1)[-1] in renamed}  # fmt: skip
        assert len(kinds) == 1 and kinds <= given
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
    # Brick's own example conforms once results about Brick and QUDT themselves are left out
    # (issue 22: it used to print thousands of lines about the ontologies and exit 3).
    assert code == 0, err
    assert err.startswith("SHACL: the model conforms to Brick's shapes: 0 violations"), err
    assert len(err.splitlines()) < 20
    assert rdflib.Graph().parse(data=out, format="turtle")
