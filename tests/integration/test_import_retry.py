"""Failed items kept with their reasons, ``brickyard retry``, and the caller's job list."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import entity, relationship
from tests.import_helpers import live_cli, read_ndjson, small_collection, write_ndjson


async def finished(client: TestClient, api_token: str, job_token: str) -> dict:
    """The job's result once it has one."""
    for _ in range(300):
        response = await client.get(f"/async/get/{job_token}", headers=bearer(api_token))
        if response.status != 202:
            assert response.status == 200, await response.text()
            return await response.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_token} did not finish")


async def test_failed_items_are_kept_and_retried_once_the_cause_is_fixed(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    ns = await small_collection(client, services.pool, cli.token)
    entities = write_ndjson(tmp_path / "e.ndjson", [entity(ns, "ahu-1", "AHU")])
    assert (await cli.run("import", "entities", str(entities), "--ercollection", "site"))[0] == 0
    # fan-2 does not exist yet: that relationship fails.
    rels = [
        relationship(ns, f"r{n}", "feeds_Equipment_Equipment", "ahu-1", target)
        for n, target in enumerate(["ahu-1", "fan-2"])
    ]
    source = write_ndjson(tmp_path / "r.ndjson", rels)
    failures = tmp_path / "failed.ndjson"
    code, out, err = await cli.run(
        "import",
        "relationships",
        str(source),
        "--ercollection",
        "site",
        "--failures",
        str(failures),
    )
    assert code == 0 and "1 stored, 1 failed" in out, err
    [failed] = read_ndjson(failures)
    transaction = failed["transactionId"]

    response = await client.get(f"/apollo/status/{transaction}/failed", headers=bearer(cli.token))
    [kept] = (await response.json())["data"]
    assert kept["id"] == "r1" and kept["item"] == rels[1] and "fan-2" in kept["reason"]

    # Fix the cause, then retry from the command line.
    fixed = write_ndjson(tmp_path / "f.ndjson", [entity(ns, "fan-2", "Fan")])
    assert (await cli.run("import", "entities", str(fixed), "--ercollection", "site"))[0] == 0
    code, out, err = await cli.run("retry", transaction)
    assert code == 0 and "resubmitted 1 failed items" in out, err
    token = out.rsplit("(job ", 1)[1].rstrip(")\n")
    job = await finished(client, cli.token, token)
    assert job["responses"]["failure"] == []
    assert await services.pool.fetchval("SELECT count(*) FROM er_relationships") == 2

    response = await client.get(f"/apollo/status/{transaction}/failed", headers=bearer(cli.token))
    assert (await response.json())["data"][0]["retriedIn"] == job["transactionId"]


async def test_the_job_list_shows_only_the_callers_jobs_newest_first(
    client: TestClient, make_token, run_jobs
) -> None:
    alice, bob = await make_token("alice", "view"), await make_token("bob", "view")
    tokens = []
    for n in range(3):
        response = await client.post(
            "/selftest/async/start", json={"message": f"m{n}"}, headers=bearer(alice)
        )
        tokens.append((await response.json())["token"])
    await client.post("/selftest/async/start", json={"message": "b"}, headers=bearer(bob))
    await run_jobs()
    response = await client.get("/async/jobs", headers=bearer(alice))
    listed = (await response.json())["jobs"]
    assert [j["jobId"] for j in listed] == tokens[::-1]
    response = await client.get("/async/jobs?state=complete&limit=1", headers=bearer(alice))
    assert [j["jobId"] for j in (await response.json())["jobs"]] == [tokens[-1]]
    response = await client.get("/async/jobs?state=nope", headers=bearer(alice))
    assert response.status == 400
