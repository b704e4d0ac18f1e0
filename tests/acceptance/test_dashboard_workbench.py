"""The failures workbench, a job's attempts and the Imports page in real Chromium: retry one
item and a group, a download, and the script's allow-list of POSTs. Screenshots go to
test-output/dashboard/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from shared.services import Services
from tests import browser
from tests.conftest import bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, relationship
from tests.import_helpers import small_collection


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    async for ctx in browser.launch():
        yield ctx


async def finished(client: TestClient, token: str, job: str) -> None:
    for _ in range(300):
        if (await client.get(f"/async/get/{job}", headers=bearer(token))).status == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the batch did not finish")


async def test_failures_workbench_job_attempts_and_imports_in_chromium(
    client: TestClient, services: Services, make_token, background_worker, context
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    batches = [
        ("entities", [entity(ns, "bad-1", "NoSuchClass"), entity(ns, "bad-2", "NoSuchClass")]),
        ("relationships", [relationship(ns, "r1", "feeds_Equipment_Equipment", "ahu-1", "fan-9")]),
    ]
    jobs = []
    for kind, items in batches:
        accepted = await post_items(client, token, kind, "site", items, is_async=True)
        jobs.append((await accepted.json())["data"]["token"])
        await finished(client, token, jobs[-1])
    summary = {"kind": "relationships", "read": 3, "stored": 1, "failed": 2}
    recorded = await client.post(
        "/apollo/imports", headers=bearer(token),
        json={"kind": "relationships", "source": "r.ndjson", "erCollectionId": "site",
              "summary": summary, "refusalsByReason": {"fan-9 does not exist": 2}},
    )  # fmt: skip
    assert recorded.status == 201, await recorded.text()

    base = str(client.make_url("")).rstrip("/")
    page = await context.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(base + "/dashboard/")
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#who").filter(has_text="alice").wait_for()

    await page.get_by_role("link", name="Failures").click()
    groups = page.locator("#failure-groups tbody tr")
    await groups.first.wait_for()
    assert await groups.count() == 2
    await page.screenshot(path=browser.screenshot_path("failures"), full_page=True)
    # The script refuses any POST outside its allow-list, such as one with a dot segment.
    allowed = await page.evaluate(
        """(paths) => paths.map((p) => POSTS.some((shape) => shape.test(p)))""",
        ["/apollo/failures/0123456789abcdef/retry", "/apollo/status/T1/failed/3/retry",
         "/apollo/failures/../admin/retry", "/apollo/status/a.b/failed/1/retry",
         "/apollo/status/T1/failed/x/retry", "/apollo/er/entities"],
    )  # fmt: skip
    assert allowed == [True, True, False, False, False, False]

    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download all (CSV)").click()
    download = await download_info.value
    assert download.suggested_filename == "brickyard-failures.csv"
    assert "bad-1" in open(await download.path()).read()  # noqa: ASYNC230

    await page.get_by_role("link", name="fan-9", exact=False).click()  # the group of r1
    await page.locator("#failures tr", has_text="r1").wait_for()
    await post_items(client, token, "entities", "site", [entity(ns, "fan-9", "Fan")])
    await page.locator("#failures tr", has_text="r1").get_by_role("button", name="Retry").click()
    await page.locator("#notice", has_text="resubmitted").wait_for()
    not_retried = page.locator("#failure-groups tr", has_text="fan-9").locator("td").nth(2)
    await not_retried.filter(has_text="0").wait_for()  # marked as retried once reloaded
    await page.screenshot(path=browser.screenshot_path("failures-group"), full_page=True)

    await page.goto(base + "/dashboard/failures")
    bad_group = page.locator("#failure-groups tr", has_text="NoSuchClass")
    await bad_group.get_by_role("button", name="Retry group").click()
    await page.locator("#notice", has_text="2 failed items resubmitted").wait_for()

    await page.goto(base + f"/dashboard/jobs/{jobs[0]}")
    await page.locator("#attempts tbody tr").first.wait_for()
    await page.locator("#timeline li", has_text="Attempt 1 started on").wait_for()
    await page.screenshot(path=browser.screenshot_path("job-attempts"), full_page=True)

    await page.get_by_role("link", name="Imports").click()
    row = page.locator("#imports tr", has_text="r.ndjson")
    await row.wait_for()
    assert "fan-9 does not exist" in await row.inner_text()
    await page.screenshot(path=browser.screenshot_path("imports"), full_page=True)
    assert violations == [], violations
