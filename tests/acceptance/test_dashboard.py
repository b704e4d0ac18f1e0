"""The dashboard in real Chromium: sign in, find a job, cancel it, follow a tracker URL, see a
transaction's failed items and retry them. Screenshots go to test-output/dashboard/."""

from __future__ import annotations

import re
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


def base(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def sign_in(page: Any, client: TestClient, token: str, path: str = "/dashboard/") -> None:
    await page.goto(base(client) + path)
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#who").filter(has_text="alice").wait_for()


async def test_sign_in_overview_and_a_job_cancelled_from_its_page(
    client: TestClient, make_token, background_worker, context
) -> None:
    token = await make_token("alice", "view", "operator", *ALL_SCOPES)
    started = await client.post(
        "/selftest/async/start", json={"message": "slow", "sleepSeconds": 30}, headers=bearer(token)
    )
    job = (await started.json())["token"]
    page = await context.new_page()

    await sign_in(page, client, token)
    await page.get_by_role("heading", name="Overview").wait_for()
    await page.locator("#queue-depth").wait_for()
    await page.get_by_text("live workers").wait_for()
    await page.screenshot(path=browser.screenshot_path("overview"), full_page=True)

    # The token stays in this tab's session: a new page of the same tab needs no sign-in.
    assert await page.evaluate("sessionStorage.getItem('brickyard-token')") == token
    await page.get_by_role("link", name="Jobs").click()
    row = page.locator("#jobs tr", has_text=job)
    await row.wait_for()
    assert "selftest" in await row.inner_text()
    await page.screenshot(path=browser.screenshot_path("jobs"), full_page=True)

    await row.get_by_role("link").click()
    await page.get_by_role("heading", name=re.compile("Job")).wait_for()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Cancel job").click()
    await page.locator("#job-state", has_text="CANCELLED").wait_for(timeout=15_000)
    await page.screenshot(path=browser.screenshot_path("job-cancelled"), full_page=True)
    answer = await client.get(f"/async/get/{job}", headers=bearer(token))
    assert (await answer.json())["jobState"] == "CANCELLED"


async def test_a_tracker_url_is_a_page_in_a_browser_and_failed_items_can_be_retried(
    client: TestClient, services: Services, make_token, background_worker, context
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await small_collection(client, services.pool, token)
    await post_items(client, token, "entities", "site", [entity(ns, "ahu-1", "AHU")])
    rels = [
        relationship(ns, "r0", "feeds_Equipment_Equipment", "ahu-1", "ahu-1"),
        relationship(ns, "r1", "feeds_Equipment_Equipment", "ahu-1", "fan-9"),
    ]
    accepted = await post_items(client, token, "relationships", "site", rels, is_async=True)
    data = (await accepted.json())["data"]
    result = await services_wait(client, token, data["token"])
    assert len(result["responses"]["failure"]) == 1
    tracker = base(client) + "/" + data["tracker"].split("://", 1)[1].split("/", 1)[1]

    # API clients still get JSON from the tracker URL.
    as_api = await client.get(tracker.removeprefix(base(client)), headers=bearer(token))
    assert as_api.content_type == "application/json" and len((await as_api.json())["data"]) == 2

    page = await context.new_page()
    await sign_in(page, client, token)
    await page.goto(tracker)  # what a user does with a tracker from an answer
    await page.get_by_role("heading", name="Status logs").wait_for()
    await page.locator("#logs tr", has_text="r1").filter(has_text="Failed").wait_for()
    await page.locator("#logs tr", has_text="r0").filter(has_text="Completed").wait_for()
    await page.screenshot(path=browser.screenshot_path("tracker"), full_page=True)
    await page.set_viewport_size({"width": 1000, "height": 360})  # the README's picture
    await page.screenshot(path=browser.screenshot_path("tracker-small"))
    await page.set_viewport_size({"width": 1366, "height": 800})

    # Search by entity id from the form.
    await page.get_by_role("link", name="Status logs").click()
    await page.get_by_label("Relationship id").fill("r0")
    await page.get_by_role("button", name="Search").click()
    await page.locator("#logs tr", has_text="r0").wait_for()

    # The failed item, its reason, then a retry once the cause is fixed.
    await page.goto(tracker)
    await page.get_by_role("link", name=re.compile("1 failed")).click()
    await page.locator("#failed tr", has_text="fan-9").wait_for()
    await post_items(client, token, "entities", "site", [entity(ns, "fan-9", "Fan")])
    page.on("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="Retry failed items").click()
    await page.locator("#notice", has_text="resubmitted").wait_for()
    await page.screenshot(path=browser.screenshot_path("failed-retried"), full_page=True)
    await page.locator("#notice a").click()
    await (
        page.locator("#logs tr", has_text="r1")
        .filter(has_text="Completed")
        .wait_for(timeout=15_000)
    )

    await page.get_by_role("link", name="Collections").click()
    row = page.locator("#er-collections tr", has_text="site")
    await row.wait_for()
    cells = await row.locator("td").all_inner_texts()
    assert cells[3:5] == ["2", "2"]  # two entities, two relationships
    await page.screenshot(path=browser.screenshot_path("collections"), full_page=True)


async def services_wait(client: TestClient, token: str, job: str) -> dict[str, Any]:
    import asyncio

    for _ in range(300):
        answer = await client.get(f"/async/get/{job}", headers=bearer(token))
        if answer.status == 200:
            return await answer.json()
        await asyncio.sleep(0.1)
    raise AssertionError("the batch did not finish")
