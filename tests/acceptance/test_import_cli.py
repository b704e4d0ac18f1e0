"""``brickyard import entities|relationships``: the client CLI against a live gateway and worker."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import orjson
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.import_helpers import (
    count_rows,
    live_cli,
    read_ndjson,
    small_collection,
    write_ndjson,
)


def ahus(namespace: str, count: int, prefix: str = "ahu") -> list[dict[str, str]]:
    return [
        {"id": f"{prefix}-{n}", "entityName": f"AHU {n}", "entityType": f"{namespace}__AHU"}
        for n in range(count)
    ]


def beside(source: Path) -> list[Path]:
    """The files named like the input, in its folder: the input alone (no journal beside it)."""
    return sorted(source.parent.glob(source.name + "*"))


def batches_done(journal: Path) -> int:
    return journal.read_text().count('"done":true') if journal.exists() else 0


async def test_25000_ndjson_entities_all_land(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    namespace = await small_collection(client, services.pool, cli.token)
    source = write_ndjson(tmp_path / "ahus.ndjson", ahus(namespace, 25_000))
    code, out, err = await cli.run(
        "import", "entities", str(source), "--ercollection", "site",
        "--failures", str(tmp_path / "failed.ndjson"),
    )  # fmt: skip
    print(out, err)
    assert code == 0, err
    assert "25000 stored, 0 failed" in out
    assert "items/s" in err  # plain progress lines: stderr is not a terminal here
    assert read_ndjson(tmp_path / "failed.ndjson") == []
    assert await count_rows(services.pool, "er_entities", "site") == 25_000
    # Three batches (10000, 10000, 5000), one job each.
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind LIKE 'er_%'") == 3


async def test_failed_items_go_to_the_failures_file_with_their_reason(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    namespace = await small_collection(client, services.pool, cli.token)
    items = ahus(namespace, 5)
    items[2]["entityType"] = f"{namespace}__Spaceship"
    source = tmp_path / "items.csv"
    source.write_text(
        "id,entityName,entityType\n"
        + "".join(f"{i['id']},{i['entityName']},{i['entityType']}\n" for i in items)
    )
    code, out, err = await cli.run(
        "import", "entities", str(source), "--ercollection", "site",
        "--failures", str(tmp_path / "failed.ndjson"), "--batch-size", "2",
    )  # fmt: skip
    assert code == 0, err
    assert "4 stored, 1 failed" in out
    [failed] = read_ndjson(tmp_path / "failed.ndjson")
    assert failed["id"] == "ahu-2" and failed["line"] == 4
    assert "Spaceship" in failed["reason"]
    assert failed["item"] == items[2]


async def test_relationships_from_stdin(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    namespace = await small_collection(client, services.pool, cli.token)
    source = write_ndjson(tmp_path / "ahus.ndjson", ahus(namespace, 3))
    assert (await cli.run("import", "entities", str(source), "--ercollection", "site"))[0] == 0
    links = [
        {
            "id": f"feeds-{n}", "sourceEntityId": f"ahu-{n}", "destinationEntityId": f"ahu-{n + 1}",
            "relationshipType": f"{namespace}__feeds_Equipment_Equipment",
        }
        for n in range(2)
    ]  # fmt: skip
    lines = b"".join(orjson.dumps(link) + b"\n" for link in links)
    code, out, err = await cli.run(
        "import", "relationships", "-", "--ercollection", "site", stdin=lines
    )
    assert code == 0 and "2 items, 2 stored, 0 failed" in out, err
    assert await count_rows(services.pool, "er_relationships", "site") == 2


async def test_an_interrupted_import_resumes(
    client: TestClient, services: Services, make_token, background_worker, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token, tmp_path / "home")
    namespace = await small_collection(client, services.pool, cli.token)
    source = write_ndjson(tmp_path / "ahus.ndjson", ahus(namespace, 6000))
    args = ("import", "entities", str(source), "--ercollection", "site", "--batch-size", "500")
    process = await cli.start(*args, "--in-flight", "1")
    # Stop it once some batches are done and others are not.
    for _ in range(600):
        await asyncio.sleep(0.05)
        if cli.journals() and batches_done(cli.journals()[0]) >= 3:
            break
    # The journal is kept under the data dir (issue 22), not beside the input.
    [journal] = cli.journals()
    assert journal.name.startswith("ahus.ndjson.") and beside(source) == [source]
    process.send_signal(signal.SIGKILL)
    await process.wait()
    done_before = batches_done(journal)
    assert 3 <= done_before < 12
    jobs_before = await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind LIKE 'er_%'")

    code, out, err = await cli.run(*args, "--resume")
    assert code == 0, err
    assert "6000 items, 6000 stored, 0 failed" in out
    assert f"({done_before * 500} done in an earlier run)" in out
    assert cli.journals() == [journal] and f"journal: {journal}" in out
    last = orjson.loads(journal.read_bytes().splitlines()[-1])
    assert last == {"summary": {"kind": "entities", "read": 6000, "stored": 6000, "failed": 0}}
    assert await count_rows(services.pool, "er_entities", "site") == 6000
    # Every batch ran exactly once: a batch sent just before the kill got its first job back.
    assert await services.pool.fetchval("SELECT count(*) FROM jobs WHERE kind LIKE 'er_%'") == 12
    assert jobs_before <= 12


async def test_failures_that_stop_the_import_are_one_clear_line(
    client: TestClient, services: Services, make_token, tmp_path: Path
) -> None:
    cli = await live_cli(client, make_token)
    namespace = await small_collection(client, services.pool, cli.token)
    good = write_ndjson(tmp_path / "ahus.ndjson", ahus(namespace, 3))
    bad = tmp_path / "bad.ndjson"
    bad.write_text(good.read_text() + "{not json\n")

    code, _, err = await cli.run("import", "entities", str(bad), "--ercollection", "site")
    assert code == 2 and "line 4: malformed JSON" in err and len(err.strip().splitlines()) == 1

    cli.token = "not-a-token"
    code, _, err = await cli.run("import", "entities", str(good), "--ercollection", "site")
    assert code == 1 and "refused the token (401)" in err and len(err.strip().splitlines()) == 1

    cli.url = "http://127.0.0.1:9"  # nothing listens on the discard port
    code, _, err = await cli.run(
        "import", "entities", str(good), "--ercollection", "site", "--wait-for-server", "1"
    )
    assert code == 1 and "unreachable" in err
