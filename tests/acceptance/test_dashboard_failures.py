"""The failures workbench over HTTP: failed items across transactions grouped by reason, for
the caller's collections or (an operator) everyone's; downloads; retry one, a group, a file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, relationship
from tests.import_helpers import small_collection


async def failing_batches(client: TestClient, services: Services, token: str, run_jobs) -> str:
    """Two async batches, three failed items of two reasons; the collection's namespace."""
    ns = await small_collection(client, services.pool, token)
    await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    first = [entity(ns, "bad-1", "NoSuchClass"), entity(ns, "bad-2", "NoSuchClass")]
    second = [relationship(ns, "r1", "feeds_Equipment_Equipment", "ahu-1", "fan-9")]
    for kind, items in (("entities", first), ("relationships", second)):
        accepted = await post_items(client, token, kind, "site", items, is_async=True)
        assert accepted.status == 202, await accepted.text()
    await run_jobs()
    return ns


async def data(answer: Any) -> Any:
    return (await answer.json())["data"]


async def test_failures_are_grouped_by_reason_and_scoped_to_the_caller(
    client: TestClient, services: Services, make_token, run_jobs
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    await failing_batches(client, services, alice, run_jobs)
    groups = await data(await client.get("/apollo/failures", headers=bearer(alice)))
    assert sorted(g["count"] for g in groups) == [1, 2], groups
    assert all(len(g["reasonKey"]) == 16 and g["notRetried"] == g["count"] for g in groups)

    bob = await make_token("bob", *ALL_SCOPES)
    assert await data(await client.get("/apollo/failures", headers=bearer(bob))) == []
    olga = await make_token("olga", "operator", *ALL_SCOPES)
    assert len(await data(await client.get("/apollo/failures", headers=bearer(olga)))) == 2

    page = await client.get("/dashboard/fragments/failures", headers=bearer(alice))
    text = await page.text()
    assert page.status == 200 and text.count('data-post="/apollo/failures/') == 2
    two = next(g for g in groups if g["count"] == 2)
    page = await client.get(
        f"/dashboard/fragments/failures?reason={two['reasonKey']}", headers=bearer(alice)
    )
    text = await page.text()
    assert "<code>bad-1</code>" in text and "<code>bad-2</code>" in text
    assert "<code>r1</code>" not in text
    assert text.count("/failed/") >= 2  # a retry button per item
    bad = await client.get("/dashboard/fragments/failures?reason=../x", headers=bearer(alice))
    assert bad.status == 400
    assert (await client.get("/dashboard/failures")).status == 200  # the shell is public
    assert (await client.get("/dashboard/fragments/failures")).status == 401


async def test_downloads_are_ndjson_or_csv_of_the_scope(
    client: TestClient, services: Services, make_token, run_jobs
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    await failing_batches(client, services, alice, run_jobs)
    url = "/dashboard/fragments/failures/download"
    ndjson = await client.get(url, headers=bearer(alice))
    assert ndjson.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in (await ndjson.text()).splitlines()]
    assert sorted(line["id"] for line in lines) == ["bad-1", "bad-2", "r1"]
    assert "attachment" in ndjson.headers["Content-Disposition"]
    as_csv = await client.get(url + "?format=csv", headers=bearer(alice))
    rows = list(csv.DictReader(io.StringIO(await as_csv.text())))
    assert sorted(r["id"] for r in rows) == ["bad-1", "bad-2", "r1"]
    assert json.loads(rows[0]["item"])["id"] == rows[0]["id"]
    assert (await client.get(url + "?format=xml", headers=bearer(alice))).status == 400
    bob = await make_token("bob", *ALL_SCOPES)
    assert await (await client.get(url, headers=bearer(bob))).text() == ""


async def test_retry_one_a_group_and_a_failures_file(
    client: TestClient, services: Services, make_token, run_jobs
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    ns = await failing_batches(client, services, alice, run_jobs)
    await post_items(client, alice, "entities", "site", [entity(ns, "fan-9", "Fan")])
    listed = await client.get("/dashboard/fragments/failures/download", headers=bearer(alice))
    lines = [json.loads(line) for line in (await listed.text()).splitlines()]
    r1 = next(line for line in lines if line["id"] == "r1")

    one = await client.post(
        f"/apollo/status/{r1['transactionId']}/failed/{r1['position']}/retry", headers=bearer(alice)
    )
    assert one.status == 202, await one.text()
    assert (await data(one))["count"] == 1
    missing = await client.post(
        f"/apollo/status/{r1['transactionId']}/failed/99/retry", headers=bearer(alice)
    )
    assert missing.status == 404
    bob = await make_token("bob", *ALL_SCOPES)
    hidden = await client.post(
        f"/apollo/status/{r1['transactionId']}/failed/0/retry", headers=bearer(bob)
    )
    assert hidden.status == 404  # another principal's failure is not even found

    bad = [line for line in lines if line["id"] != "r1"]
    key = bad[0]["reasonKey"]
    group = await client.post(f"/apollo/failures/{key}/retry", headers=bearer(alice))
    assert group.status == 202 and (await data(group))["count"] == 2
    again = await client.post(f"/apollo/failures/{key}/retry", headers=bearer(alice))
    assert again.status == 404  # nothing of that reason waits for a retry any more
    assert (await client.post("/apollo/failures/zz/retry", headers=bearer(alice))).status == 404

    keys = [{"transactionId": b["transactionId"], "id": b["id"]} for b in bad]
    selected = await client.post(
        "/apollo/failures/retry", json={"items": keys}, headers=bearer(alice)
    )
    assert selected.status == 202 and (await data(selected))["count"] == 2
    refused = await client.post(
        "/apollo/failures/retry", json={"items": [{"x": 1}]}, headers=bearer(alice)
    )
    assert refused.status == 400
    await run_jobs()
    groups = await data(await client.get("/apollo/failures", headers=bearer(alice)))
    assert {g["reason"]: g["notRetried"] for g in groups}.get(r1["reason"]) == 0
