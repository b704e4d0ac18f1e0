"""The dashboard's pages over plain HTTP (these run without a browser): shells are public,
fragments need a token, and a tracker URL is a page only for a browser that sends no token."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items
from tests.import_helpers import small_collection

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_shells_are_public_and_fragments_need_a_token(client: TestClient, make_token) -> None:
    for path in ("/dashboard/", "/dashboard/jobs?state=FAILED", "/dashboard/logs"):
        page = await client.get(path)
        assert page.status == 200 and page.content_type == "text/html"
        text = await page.text()
        assert 'for="token">Token</label>' in text and "https://" not in text  # nothing from a CDN
    script = await client.get("/dashboard/static/dashboard.js")
    assert script.status == 200 and "sessionStorage" in await script.text()
    assert (await client.get("/dashboard/fragments/overview")).status == 401
    token = await make_token("alice", "view")
    overview = await client.get("/dashboard/fragments/overview", headers=bearer(token))
    text = await overview.text()
    # Cluster status (worker hosts, pids, every principal's jobs) is for operators, as in
    # GET /admin/status, which refuses the same token.
    assert overview.status == 200 and "queue depth" not in text and "PID" not in text
    assert "operator" in text and "jobs finished per minute" in text
    assert (await client.get("/admin/status", headers=bearer(token))).status == 403
    operator = await make_token("olga", "view", "operator")
    overview = await client.get("/dashboard/fragments/overview", headers=bearer(operator))
    text = await overview.text()
    assert overview.status == 200 and "queue depth" in text and "PID" in text
    jobs = await client.get("/dashboard/fragments/jobs?state=bogus", headers=bearer(token))
    assert jobs.status == 400


async def test_a_tracker_url_is_a_page_for_browsers_and_json_for_everyone_else(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    answer = await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    tracker = (await answer.json())["data"]["responses"]["success"][0]["tracker"]
    path = "/" + tracker.split("://", 1)[1].split("/", 1)[1]

    page = await client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.status == 200 and page.content_type == "text/html"
    assert "/dashboard/fragments/logs?entityid=ahu-1&amp;transactionid=" in await page.text()
    # The docs' path form, too.
    page = await client.get("/apollo/status/entity/ahu-1/logs", headers={"Accept": BROWSER_ACCEPT})
    assert "/dashboard/fragments/logs?entityid=ahu-1" in await page.text()

    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        refused = await client.get(path, headers=headers)  # an API client without a token
        assert refused.status == 401 and refused.content_type == "application/json"
    with_token = await client.get(path, headers={**bearer(token), "Accept": BROWSER_ACCEPT})
    assert with_token.content_type == "application/json"
    assert (await with_token.json())["data"][0]["state"] == "Completed"

    fragment = await client.get("/dashboard/fragments/logs?entityid=ahu-1", headers=bearer(token))
    assert "Completed" in await fragment.text()


async def test_a_batch_with_failed_items_is_not_shown_as_a_clean_complete(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    clean = await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    mixed = await post_items(
        client, token, "entities", "site",
        [entity(ns, "ahu-2", "AHU"), entity(ns, "bad", "NoSuchClass")],
    )  # fmt: skip
    assert clean.status == mixed.status == 207
    assert len((await mixed.json())["data"]["responses"]["failure"]) == 1
    listed = await client.get("/dashboard/fragments/jobs", headers=bearer(token))
    rows = (await listed.text()).split("<tr")[2:]  # after the header row
    assert len(rows) == 2, rows
    newest, oldest = rows
    assert 'class="state-complete-with-failures"' in newest
    assert "COMPLETE WITH FAILURES" in newest and "1 stored, 1 failed" in newest
    assert 'class="state-complete"' in oldest and "1 stored, 0 failed" in oldest
    job_id = newest.split("/dashboard/jobs/", 1)[1].split('"', 1)[0]
    page = await client.get(f"/dashboard/fragments/jobs/{job_id}", headers=bearer(token))
    text = await page.text()
    assert "COMPLETE WITH FAILURES" in text and "1 stored, 1 failed" in text
    # The job's status over the API keeps Synapse's states.
    status = await client.get(f"/async/get/{job_id}", headers=bearer(token))
    assert status.status in (200, 201)
    assert (await status.json()).get("jobState", "COMPLETE") == "COMPLETE"


async def test_an_async_batch_with_failed_items_is_shown_so_too(
    client: TestClient, services: Services, make_token, run_jobs
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    items = [entity(ns, "ahu-2", "AHU"), entity(ns, "bad", "NoSuchClass")]
    accepted = await post_items(client, token, "entities", "site", items, is_async=True)
    assert accepted.status == 202, await accepted.text()
    await run_jobs()
    job_id = (await accepted.json())["data"]["token"]
    page = await client.get(f"/dashboard/fragments/jobs/{job_id}", headers=bearer(token))
    text = await page.text()
    assert "COMPLETE WITH FAILURES" in text and "1 stored, 1 failed" in text, text


async def test_the_job_list_labels_jobs_and_folds_chunk_helpers(
    client: TestClient, services: Services, make_token
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    posted = await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    assert posted.status == 207
    body = await posted.json()
    batch = body.get("transactionId") or body["data"].get("transactionId")
    assert batch, body
    principal_id = await services.pool.fetchval("SELECT id FROM principals WHERE name = 'alice'")
    # A chunk helper as a batch queues it: listed on its batch's page, not among the jobs.
    await services.pool.execute(
        "INSERT INTO jobs (token, kind, principal_id, request) VALUES ($1, 'help_er_batch', $2, $3)",
        "h" * 32, principal_id, {"parent": "p" * 32},
    )  # fmt: skip
    listed = await (await client.get("/dashboard/fragments/jobs", headers=bearer(token))).text()
    rows = listed.split("<tr")[2:]
    assert len(rows) == 1, rows
    assert f"tx: {batch}" in rows[0] and "collection: site" in rows[0]
    helpers = await client.get(
        "/dashboard/fragments/jobs?kind=help_er_batch", headers=bearer(token)
    )
    assert "h" * 32 in await helpers.text()
    # The API's list is not folded: it lists every job of the caller.
    api = await client.get("/async/jobs", headers=bearer(token))
    assert api.status == 200, await api.text()
    assert "h" * 32 in await api.text()
