"""The operator's dashboard pages: workers (running jobs, uptime, memory), queue latency on the
overview, and the charts computed from the jobs table; over HTTP and in real Chromium, with a
screenshot of each page in test-output/dashboard/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests import browser
from tests.acceptance.test_dashboard import sign_in
from tests.conftest import bearer


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    async for ctx in browser.launch():
        yield ctx


async def start(client: TestClient, token: str, **body: object) -> str:
    response = await client.post("/selftest/async/start", json=body, headers=bearer(token))
    assert response.status == 201, await response.text()
    return str((await response.json())["token"])


async def test_workers_and_charts_are_for_operators_and_count_failures(
    client: TestClient, make_token, run_jobs
) -> None:
    viewer, operator = await make_token("alice", "view"), await make_token("olga", "operator")
    for path, hidden in (("workers", "workers-hidden"), ("charts", "charts-hidden")):
        assert (await client.get(f"/dashboard/{path}")).status == 200  # the public shell
        assert (await client.get(f"/dashboard/fragments/{path}")).status == 401
        answer = await client.get(f"/dashboard/fragments/{path}", headers=bearer(viewer))
        assert answer.status == 200 and hidden in await answer.text()
    for _ in range(3):
        await start(client, viewer)
    await start(client, viewer, fail="on purpose")
    waiting = await client.get("/dashboard/fragments/charts", headers=bearer(operator))
    text = await waiting.text()
    assert "waiting jobs: 4 jobs this minute" in text, text  # the queue depth of this minute
    await run_jobs()
    answer = await client.get("/dashboard/fragments/charts", headers=bearer(operator))
    text = await answer.text()
    assert answer.status == 200
    assert "this minute: 3 complete" in text and "this minute: 1 failed" in text
    assert 'class="failed"' in text and "<td>selftest</td><td>4</td>" in text
    assert "waiting jobs: 0 jobs this minute" in text


async def test_the_operator_pages_in_chromium(
    client: TestClient, make_token, background_worker, context
) -> None:
    token = await make_token("alice", "view", "operator")
    job = await start(client, token, message="slow", sleepSeconds=30)
    await start(client, token, fail="on purpose")
    page = await context.new_page()
    await sign_in(page, client, token)
    await page.locator("#queue-latency").wait_for()
    await page.screenshot(path=browser.screenshot_path("overview-latency"), full_page=True)

    await page.get_by_role("link", name="Workers").click()
    row = page.locator("#workers tr", has_text="MiB")
    await row.filter(has_text=job[:12]).wait_for(timeout=15_000)
    assert "selftest" in await row.inner_text()
    await page.screenshot(path=browser.screenshot_path("workers"), full_page=True)

    await page.get_by_role("link", name="Charts").click()
    await page.get_by_role("heading", name="Charts").wait_for()
    await page.locator("#run-times tr", has_text="selftest").wait_for(timeout=15_000)
    assert await page.locator("svg.chart").count() == 4
    await page.screenshot(path=browser.screenshot_path("charts"), full_page=True)
    await client.post(f"/async/cancel/{job}", headers=bearer(token))
