"""An import reports its summary when it ends; the dashboard's Imports page shows stored and
refused counts with refusals grouped by reason; ``brickyard retry --failures FILE``."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import entity, relationship
from tests.import_helpers import live_cli, small_collection, write_ndjson


async def test_an_import_summary_is_recorded_shown_and_its_failures_retried(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    ns = await small_collection(client, services.pool, cli.token)
    entities = write_ndjson(tmp_path / "e.ndjson", [entity(ns, "ahu-1", "AHU")])
    assert (await cli.run("import", "entities", str(entities), "--ercollection", "site"))[0] == 0
    rels = [
        relationship(ns, f"r{n}", "feeds_Equipment_Equipment", "ahu-1", target)
        for n, target in enumerate(["ahu-1", "fan-2", "fan-3"])
    ]
    source = write_ndjson(tmp_path / "r.ndjson", rels)
    failures = tmp_path / "failed.ndjson"
    code, out, err = await cli.run(
        "import", "relationships", str(source), "--ercollection", "site",
        "--failures", str(failures),
    )  # fmt: skip
    assert code == 0 and "1 stored, 2 failed" in out and "warning" not in err, err

    listed = (await (await client.get("/apollo/imports", headers=bearer(cli.token))).json())["data"]
    newest, oldest = listed
    assert (newest["source"], newest["kind"], newest["stored"], newest["refused"]) == (
        "r.ndjson", "relationships", 1, 2,
    )  # fmt: skip
    assert sum(n for _, n in newest["refusals"]) == 2 and len(newest["transactions"]) == 1
    assert (oldest["stored"], oldest["refused"], oldest["refusals"]) == (1, 0, [])
    page = await client.get("/dashboard/fragments/imports", headers=bearer(cli.token))
    text = await page.text()
    assert page.status == 200 and "<code>r.ndjson</code>" in text and "fan-2" in text
    other = await make_token("bob", "view", "apollo_read")
    empty = await client.get("/dashboard/fragments/imports", headers=bearer(other))
    assert 'id="no-imports"' in await empty.text()
    bad = await client.post("/apollo/imports", json={"kind": "x"}, headers=bearer(cli.token))
    assert bad.status == 400

    # The import's own failures file names the failed items: retry them once fixed.
    fixed = write_ndjson(
        tmp_path / "f.ndjson", [entity(ns, "fan-2", "Fan"), entity(ns, "fan-3", "Fan")]
    )
    assert (await cli.run("import", "entities", str(fixed), "--ercollection", "site"))[0] == 0
    code, out, err = await cli.run("retry", "--failures", str(failures))
    assert code == 0 and "resubmitted 2 failed items" in out, err
    code, out, err = await cli.run("retry")
    assert code != 0 and "TRANSACTION_ID or a --failures FILE" in err


async def test_a_summary_that_cannot_be_stored_is_a_400(client: TestClient, make_token) -> None:
    token = await make_token("alice", "apollo_read", "apollo_write")
    good = {"kind": "entities", "erCollectionId": "site", "source": "a.ndjson", "summary": {}}
    for body in (
        {**good, "erCollectionId": "site\x00"},
        {**good, "summary": {"note": "a\x00"}},
        {**good, "refusalsByReason": {"a reason": True}},
    ):
        answer = await client.post("/apollo/imports", json=body, headers=bearer(token))
        assert answer.status == 400, await answer.text()
    listed = await client.get("/apollo/imports", headers=bearer(token))
    assert listed.status == 200 and "a.ndjson" not in await listed.text()  # nothing was kept
