"""Schema sync as a job: what it writes, which release it picks, its errors, async, concurrency."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.processes import start, wait_for
from tests.schema_helpers import (
    API,
    admin_headers,
    create_collection,
    entity,
    publish,
    release,
    sync,
)

STALLED_SYNC = """
SELECT pid FROM pg_stat_activity
WHERE application_name = 'brickyard' AND wait_event_type = 'Lock'
  AND query LIKE '%type_schemas%'
"""
BACKEND_ALIVE = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
STATE = """
SELECT split_part(type_id, '__', 2) AS name, version, schema_type, is_current, active,
       release_version, replace(schema::text, upper(collection_id) || '__', '') AS content
FROM type_schemas WHERE collection_id = $1 ORDER BY 1, 2
"""


def changed_release(version: str) -> dict[str, Any]:
    """acme 1.0 with AHU redefined, Building_Sensor gone, Meter new, one invalid entry."""
    bundle = release(version)
    entities = [e for e in bundle["entitytypes"] if e["name"] != "Building_Sensor"]
    for e in entities:
        if e["name"] == "AHU":
            e["definition"] = "Air handling unit"
    bundle["entitytypes"] = [
        *entities,
        entity("Meter", "Equipment"),
        entity("Ghost", "Not_In_Release"),
    ]
    return bundle


async def state(services: Services, collection_id: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await services.pool.fetch(STATE, collection_id)]


@pytest.fixture
async def admin(client: TestClient, make_token: TokenFactory) -> dict[str, str]:
    headers = await admin_headers(make_token)
    await publish(client, headers, release("1.0"))
    return headers


async def test_first_sync_fills_and_a_second_changes_nothing(
    client: TestClient, admin: dict[str, str], background_worker: None
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    first = await sync(client, admin, "Acme")
    assert (
        first["reason"]
        == "Attempted '8' schemas: inserted '8' schemas, updated '0' schemas, '0' failed"
    )
    assert len(first["success"]) == 8 and "ACME__AHU" in first["success"]
    assert first["release"] == {"releaseLine": "acme", "version": "1.0", "previousVersion": None}
    again = await sync(client, admin, "Acme")
    assert (
        again["reason"]
        == "Attempted '8' schemas: inserted '0' schemas, updated '0' schemas, '0' failed"
    )
    assert again["success"] == [] and len(again["unchanged"]) == 8 and again["inactivated"] == []
    relationships = await sync(client, admin, "Acme", "relationshiptypes")
    assert relationships["inserted"] == 3


async def test_the_seed_envelope_is_the_answer(
    client: TestClient, admin: dict[str, str], background_worker: None
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    body = {"schemaType": "relationshiptypes", "schemaCollectionId": "Acme"}
    response = await client.post(f"{API}/sync?v=1.0", json=body, headers=admin)
    assert response.status == 200
    answer = await response.json()
    assert answer["status"] == {"message": "Operation completed", "code": "200"}
    assert answer["paging"] is None and len(answer["transactionId"]) == 32
    [entry] = answer["data"]["relationshiptypes"]
    assert entry["collId"] == "Acme"
    assert set(entry["response"]) >= {"reason", "success", "failed", "inactivated"}


async def test_a_new_release_inserts_updates_inactivates_and_reports_failures(
    client: TestClient, admin: dict[str, str], services: Services, background_worker: None
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    await sync(client, admin, "Acme")
    custom = {
        "title": "ACME__Custom",
        "type": "object",
        "properties": {k: {"type": "string"} for k in ("id", "entityType", "entityName")},
    }
    posted = await client.post(
        f"{API}/entitytypes", json=[custom], headers={**admin, "schemaCollectionId": "Acme"}
    )
    assert posted.status == 201
    await publish(client, admin, changed_release("1.1"))

    moved = await sync(client, admin, "Acme")
    assert (
        moved["reason"]
        == "Attempted '9' schemas: inserted '1' schemas, updated '1' schemas, '1' failed"
    )
    assert moved["success"] == ["ACME__Meter", "ACME__AHU"]
    assert moved["failed"] == ["ACME__Ghost"]
    assert moved["failures"] == [
        {"id": "ACME__Ghost", "reason": "unknown or invalid parent(s): Not_In_Release"}
    ]
    # Hand-made types never came from a release, so a sync leaves them alone.
    assert moved["inactivated"] == ["ACME__Building_Sensor"]
    assert moved["release"] == {"releaseLine": "acme", "version": "1.1", "previousVersion": "1.0"}

    rows = {(r[0], r[1]): r for r in await state(services, "Acme")}
    assert rows[("AHU", 1)][3:6] == (False, True, "1.0")
    assert rows[("AHU", 2)][3:6] == (True, True, "1.1")
    assert rows[("Building_Sensor", 1)][3:6] == (True, False, "1.0")
    assert rows[("Custom", 1)][3:6] == (True, True, None)
    gone = await client.get(f"{API}/entitytypes/ACME__Building_Sensor", headers=admin)
    assert gone.status == 404


async def test_release_pin_follows_create_then_an_explicit_version(
    client: TestClient, admin: dict[str, str], background_worker: None
) -> None:
    await publish(client, admin, changed_release("1.1"))
    created = await create_collection(client, admin, "Pinned", releaseLine="acme", release="1.0")
    assert created["release"] == "1.0"
    assert (await sync(client, admin, "Pinned"))["release"]["version"] == "1.0"
    assert (await sync(client, admin, "Pinned"))["inserted"] == 0
    moved = await sync(client, admin, "Pinned", version="1.1")
    assert (moved["release"]["version"], moved["inserted"], moved["updated"]) == ("1.1", 1, 1)
    after = await client.get(f"{API}/schemacollections/Pinned", headers=admin)
    assert (await after.json())["data"]["release"] == "1.1"
    back = await sync(client, admin, "Pinned", version="1.0")
    # Back on 1.0: AHU's old definition and Building_Sensor return as new versions.
    assert (back["release"]["version"], back["inserted"], back["updated"]) == ("1.0", 0, 2)
    assert back["inactivated"] == ["PINNED__Meter"]
    latest = await sync(client, admin, "Pinned", version="latest")
    assert latest["release"]["version"] == "1.1"
    after = await client.get(f"{API}/schemacollections/Pinned", headers=admin)
    assert (await after.json())["data"]["release"] == "latest"


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"schemaCollectionId": "Acme"}, 400, "schemaType"),
        ({"schemaType": "entitytypes"}, 400, "schemaCollectionId"),
        ({"schemaType": "", "schemaCollectionId": ""}, 400, "Missing mandatory"),
        ({"schemaType": "widgets", "schemaCollectionId": "Acme"}, 400, "must be one of"),
        (
            {"schemaType": "entitytypes", "schemaCollectionId": "Acme", "version": "7"},
            400,
            "no version '7'",
        ),
        (
            {"schemaType": "entitytypes", "schemaCollectionId": "Acme", "version": 7},
            400,
            "'version'",
        ),
        ({"schemaType": "entitytypes", "schemaCollectionId": "Nope"}, 404, "not found"),
        ([], 400, "JSON object"),
    ],
)
async def test_sync_request_errors(
    client: TestClient, admin: dict[str, str], body: Any, status: int, fragment: str
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    response = await client.post(f"{API}/sync", json=body, headers=admin)
    assert response.status == status
    payload = await response.json()
    assert payload["status"]["code"] == str(status) and fragment in payload["status"]["message"]


async def test_nothing_to_sync_is_412(
    client: TestClient, admin: dict[str, str], background_worker: None
) -> None:
    await publish(client, admin, {**release("2.0", line="bare"), "relationshiptypes": []})
    await create_collection(client, admin, "Bare", releaseLine="bare")
    answer = await sync(client, admin, "Bare", "relationshiptypes", expect=412)
    assert (
        answer["status"]["code"] == "412" and "no relationshiptypes" in answer["status"]["message"]
    )


async def test_sync_needs_the_admin_scope(client: TestClient, make_token: TokenFactory) -> None:
    writer = bearer(await make_token("bob", "apollo_read", "apollo_write"))
    body = {"schemaType": "entitytypes", "schemaCollectionId": "Acme"}
    response = await client.post(f"{API}/sync", json=body, headers=writer)
    assert response.status == 403
    assert (await client.post(f"{API}/sync", json=body)).status == 401


async def test_async_sync_answers_202_and_the_job_gives_the_same_body(
    client: TestClient,
    admin: dict[str, str],
    services: Services,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    body = {"schemaType": "entitytypes", "schemaCollectionId": "Acme"}
    response = await client.post(f"{API}/sync", json=body, headers={**admin, "async": "true"})
    assert response.status == 202
    accepted = await response.json()
    assert accepted["status"]["code"] == "202"
    token = accepted["data"]["token"]
    assert accepted["data"]["statusUrl"] == f"http://brickyard.test/async/get/{token}"
    pending = await client.get(f"/async/get/{token}", headers=admin)
    assert pending.status == 202
    await run_jobs()
    done = await client.get(f"/async/get/{token}", headers=admin)
    assert done.status == 200
    result = await done.json()
    assert result["transactionId"] == accepted["transactionId"]
    assert result["status"] == {"message": "Operation completed", "code": "200"}
    [entry] = result["data"]["entitytypes"]
    assert entry["response"]["reason"].startswith("Attempted '8' schemas: inserted '8'")
    bad = await client.post(f"{API}/sync", json=body, headers={**admin, "async": "maybe"})
    assert bad.status == 400


async def test_an_async_412_is_the_jobs_failure(
    client: TestClient, admin: dict[str, str], run_jobs: Callable[[], Awaitable[None]]
) -> None:
    await publish(client, admin, {**release("2.0", line="bare"), "relationshiptypes": []})
    await create_collection(client, admin, "Bare", releaseLine="bare")
    body = {"schemaType": "relationshiptypes", "schemaCollectionId": "Bare"}
    response = await client.post(f"{API}/sync", json=body, headers={**admin, "async": "true"})
    token = (await response.json())["data"]["token"]
    await run_jobs()
    failed = await client.get(f"/async/get/{token}", headers=admin)
    assert failed.status == 412
    assert (await failed.json())["jobState"] == "FAILED"


async def test_parallel_syncs_of_one_collection_are_serialised(
    client: TestClient, admin: dict[str, str], services: Services, background_worker: None
) -> None:
    await create_collection(client, admin, "Acme", releaseLine="acme")
    body = {"schemaType": "entitytypes", "schemaCollectionId": "Acme"}
    answers = await asyncio.gather(
        *(client.post(f"{API}/sync", json=body, headers=admin) for _ in range(3))
    )
    results = [await a.json() for a in answers]
    assert [a.status for a in answers] == [200, 200, 200], results
    inserted = sorted(r["data"]["entitytypes"][0]["response"]["inserted"] for r in results)
    assert inserted == [0, 0, 8]
    versions = await services.pool.fetch("SELECT version FROM type_schemas")
    assert sorted(r["version"] for r in versions) == [1] * 8


async def test_a_sync_killed_mid_write_leaves_nothing_and_its_rerun_matches(
    client: TestClient,
    admin: dict[str, str],
    services: Services,
    run_jobs: Callable[[], Awaitable[None]],
) -> None:
    async def start_sync(collection_id: str) -> str:
        body = {"schemaType": "entitytypes", "schemaCollectionId": collection_id}
        response = await client.post(f"{API}/sync", json=body, headers={**admin, "async": "true"})
        assert response.status == 202
        return (await response.json())["data"]["token"]

    for collection_id in ("Twin", "Crashy"):
        await create_collection(client, admin, collection_id, releaseLine="acme")
        await start_sync(collection_id)
    await run_jobs()
    await publish(client, admin, changed_release("1.1"))
    await start_sync("Twin")  # the uninterrupted run, for comparison
    await run_jobs()
    before = await state(services, "Crashy")
    assert before != await state(services, "Twin")

    worker = start(services.settings, "worker")
    backend: int | None = None
    try:
        async with services.pool.acquire() as blocker, blocker.transaction():
            # Hold the collection's row: the worker's sync stalls writing the changed types
            # (the types generation they bump and the new versions' foreign key need the row),
            # inside its transaction, where it is killed.
            await blocker.execute("SELECT 1 FROM schema_collections WHERE id = 'Crashy' FOR UPDATE")
            token = await start_sync("Crashy")

            async def worker_is_stalled() -> bool:
                nonlocal backend
                backend = await services.pool.fetchval(STALLED_SYNC)
                return backend is not None

            await wait_for(worker_is_stalled, timeout_s=30)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()

    async def its_transaction_ended() -> bool:
        return await services.pool.fetchval(BACKEND_ALIVE, backend) == 0

    await wait_for(its_transaction_ended, timeout_s=10)
    assert await state(services, "Crashy") == before  # nothing half-written
    job_state = await services.pool.fetchval("SELECT state FROM jobs WHERE token = $1", token)
    assert job_state == "PROCESSING"

    await asyncio.wait_for(run_jobs(), timeout=60)
    job = await services.pool.fetchrow(
        "SELECT state, attempts, result FROM jobs WHERE token = $1", token
    )
    assert (job["state"], job["attempts"]) == ("COMPLETE", 2)
    assert job["result"]["data"]["entitytypes"][0]["response"]["updated"] == 1
    assert await state(services, "Crashy") == await state(services, "Twin")
