"""An item's versions across a delete and a re-create (issue 20, 1 and 4): versions keep counting,
the delete is a tombstone version of its own, and history (/versions), the change feed and the
status logs tell the same story, for entities and relationships alike."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import (
    ALL_SCOPES,
    entity,
    post_items,
    relationship,
    two_collections,
    upsert_ok,
)

C1 = "c1"


def headers(token: str) -> dict[str, str]:
    return {**bearer(token), "ercollectionid": C1}


async def ok_json(response: Any) -> Any:
    body = await response.json()
    assert response.status == 200, body
    return body


async def write(client: TestClient, token: str, kind: str, item: dict[str, Any]) -> str:
    return str((await upsert_ok(client, token, kind, C1, [item]))["transactionId"])


async def delete(client: TestClient, token: str, kind: str, item_id: str) -> str:
    body = await ok_json(
        await client.delete(f"/apollo/er/{kind}/{item_id}", headers=headers(token))
    )
    return str(body["transactionId"])


async def history(client: TestClient, token: str, kind: str, item_id: str) -> list[dict[str, Any]]:
    path = f"/apollo/er/{kind}/{item_id}/versions"
    return list((await ok_json(await client.get(path, headers=headers(token))))["data"])


def story(versions: list[dict[str, Any]], noun: str) -> list[tuple[int, bool, str]]:
    return [
        (v["sysData"][f"sys{noun}Version"], v["isActive"], v["sysData"]["sysTransactionId"])
        for v in versions
    ]


async def feed(client: TestClient, token: str, item_key: str, item_id: str) -> list[Any]:
    body = await ok_json(await client.get("/apollo/changefeed/logs", headers=headers(token)))
    return [
        (e["notificationType"], int(e["version"]), e["transactionId"])
        for e in body["data"]
        if e[item_key] == item_id
    ]


async def logs(client: TestClient, token: str, path: str) -> dict[str, dict[str, Any]]:
    body = await ok_json(await client.get(f"/apollo/status/{path}/logs", headers=headers(token)))
    return {r["transactionId"]: r for r in body["data"]}


KINDS = {
    # kind: (noun, feed and log key, status path)
    "entities": ("Entity", "entityId", "entity"),
    "relationships": ("Relationship", "relationshipId", "relationship"),
}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_delete_then_recreate_keeps_counting_and_every_view_agrees(
    client: TestClient,
    services: Services,
    make_token: TokenFactory,
    background_worker: None,
    kind: str,
) -> None:
    noun, item_key, status_path = KINDS[kind]
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, C1, "c2")
    if kind == "entities":
        await upsert_ok(client, token, "entities", C1, [entity(ns, "other", "AHU")])

        def item(name: str) -> dict[str, Any]:
            return entity(ns, "x", "AHU", entityName=name)
    else:
        ends = [entity(ns, "ahu", "AHU"), entity(ns, "fan", "Fan")]
        await upsert_ok(client, token, "entities", C1, ends)

        def item(name: str) -> dict[str, Any]:
            return relationship(ns, "x", "feeds_Equipment_Equipment", "ahu", "fan",
                                customData={"name": name})  # fmt: skip

    def name_of(body: dict[str, Any]) -> str:
        return str(body["entityName"] if kind == "entities" else body["customData"]["name"])

    t1 = await write(client, token, kind, item("one"))
    t2 = await write(client, token, kind, item("two"))
    t3 = await delete(client, token, kind, "x")
    # A deleted item's history stays readable, and ends with the delete.
    assert story(await history(client, token, kind, "x"), noun) == [
        (1, True, t1), (2, True, t2), (3, False, t3),
    ]  # fmt: skip
    t4 = await write(client, token, kind, item("four"))
    t5 = await write(client, token, kind, item("five"))
    versions = await history(client, token, kind, "x")
    assert story(versions, noun) == [
        (1, True, t1), (2, True, t2), (3, False, t3), (4, True, t4), (5, True, t5),
    ]  # fmt: skip
    assert [name_of(v) for v in versions] == ["one", "two", "two", "four", "five"]
    current = await ok_json(await client.get(f"/apollo/er/{kind}/x", headers=headers(token)))
    assert current["data"][0]["isActive"] is True and name_of(current["data"][0]) == "five"
    # The feed tells the same story, with the same version numbers.
    assert await feed(client, token, item_key, "x") == [
        ("Created", 1, t1), ("Updated", 2, t2), ("Deleted", 3, t3),
        ("Created", 4, t4), ("Updated", 5, t5),
    ]  # fmt: skip
    # So do the status logs: every acknowledged write's payload is the version it wrote.
    records = await logs(client, token, f"{status_path}/x")
    assert set(records) == {t1, t2, t3, t4, t5}
    for transaction, version in zip((t1, t2, t3, t4, t5), versions, strict=True):
        record = records[transaction]
        assert record["state"] == "Completed" and record["payloadState"] == "written"
        assert name_of(record["payload"]) == name_of(version), transaction
    assert records[t3]["requestAction"] == "Delete"
    assert records[t3]["payload"]["isActive"] is False


async def test_a_failed_item_and_a_version_no_longer_kept_have_different_payload_shapes(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    """Issue 20, 4: a null payload said both "failed" and "no longer kept"."""
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token, C1, "c2")
    response = await post_items(
        client, token, "entities", C1, [entity(ns, "ok", "AHU"), entity(ns, "bad", "Nope")]
    )
    assert response.status == 207
    transaction = (await response.json())["transactionId"]
    # A version no longer kept, as one written before versions were kept (migration 009) is:
    # replaced by a later upsert, and its kept copy removed.
    await upsert_ok(client, token, "entities", C1, [entity(ns, "ok", "AHU", entityName="two")])
    async with services.pool.acquire() as conn:
        await conn.execute(
            "DELETE FROM er_entity_versions WHERE collection_id = $1 AND id = 'ok'", C1
        )
    path = f"/apollo/status/logs?transactionId={transaction}"
    found = {
        r["serviceData"]["entityId"]: r
        for r in (await ok_json(await client.get(path, headers=headers(token))))["data"]
    }
    failed, gone = found["bad"], found["ok"]
    assert failed["state"] == "Failed" and failed["message"]
    assert failed["payload"] is None and failed["payloadState"] == "none"
    assert gone["state"] == "Completed"
    assert gone["payload"] is None and gone["payloadState"] == "notKept"
