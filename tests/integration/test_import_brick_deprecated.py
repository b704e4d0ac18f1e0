"""Old Brick class names on import, against the real Brick 1.4 (issue 22): a class the release
deprecates with ``brick:isReplacedBy`` is stored as its replacement, and the summary says so."""

from __future__ import annotations

from pathlib import Path

import rdflib
from aiohttp.test_utils import TestClient

from tests.import_helpers import live_cli, read_ndjson
from tests.integration.test_import_brick import brick_collection

BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
MODEL = """
@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/plant#> .
ex:flow1 a brick:Chilled_Water_Discharge_Flow_Sensor .
ex:flow2 a brick:Leaving_Chilled_Water_Flow_Sensor .
"""


async def test_a_deprecated_class_is_stored_as_its_replacement(
    client: TestClient, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    await brick_collection(client, cli, "plant")
    model = tmp_path / "old.ttl"
    model.write_text(MODEL)
    journal = tmp_path / "journal"
    code, out, err = await cli.run(
        "import", "brick", str(model), "--ercollection", "plant", "--journal", str(journal)
    )
    assert code == 0, err
    assert (
        "summary: renamed 1: deprecated class brick:Chilled_Water_Discharge_Flow_Sensor as "
        "brick:Leaving_Chilled_Water_Flow_Sensor (its replacement)"
    ) in out
    assert "summary: entities: 2 read = 2 stored + 0 refused" in out
    last = read_ndjson(Path(f"{journal}-entities"))[-1]
    assert last["summary"]["renamed"] == [
        {
            "id": "http://example.org/plant#flow1",
            "from": "Chilled_Water_Discharge_Flow_Sensor",
            "to": "Leaving_Chilled_Water_Flow_Sensor",
        }
    ]
    code, exported, err = await cli.run("export", "brick", "--ercollection", "plant")
    assert code == 0, err
    graph = rdflib.Graph().parse(data=exported, format="turtle")
    flow1 = rdflib.URIRef("http://example.org/plant#flow1")
    assert set(graph.objects(flow1, rdflib.RDF.type)) == {BRICK.Leaving_Chilled_Water_Flow_Sensor}
