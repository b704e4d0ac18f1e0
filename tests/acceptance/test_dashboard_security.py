"""The dashboard cannot be turned against its reader (issue 19, finding 3): a link's path never
makes a page fetch anything but its own fragment with the token, stored data is shown as text,
and every answer carries the headers that forbid inline script, framing and sniffing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import SECURITY_HEADERS
from tests import browser
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES

PAYLOAD = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
GADGETS = [
    "/dashboard/jobs/..%2F..%2F..%2Fhealthz",
    "/dashboard/jobs/..%2F..%2F..%2Fapollo%2Fer%2Fercollections",
    "/dashboard/failed/..%2F..%2F..%2Fadmin%2Fstatus",
    "/dashboard/jobs/%252e%252e%252F%252e%252e%252Fhealthz",
]


async def test_every_answer_carries_the_security_headers(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view")
    for path, headers in (
        ("/dashboard/", {}),
        ("/dashboard/static/dashboard.js", {}),
        ("/docs", {}),
        ("/docs/static/docs.js", {}),
        ("/healthz", {}),
        ("/async/get/nope", {}),  # a 401
        ("/dashboard/fragments/overview", bearer(token)),
    ):
        response = await client.get(path, headers=headers)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
        assert "Python" not in response.headers["Server"]
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]


async def test_a_page_path_names_its_own_fragment_only(client: TestClient) -> None:
    for gadget in GADGETS:
        page = await client.get(gadget)
        if page.status == 404:
            continue
        fragment = re.search(r'data-fragment="([^"]*)"', await page.text())
        assert fragment is not None
        # One path segment under the page's own fragment route: its slashes stay encoded.
        route, _, rest = fragment.group(1).removeprefix("/dashboard/fragments/").partition("/")
        assert route in ("jobs", "failed") and "/" not in rest and "%2" in rest, fragment
    for dots in ("/dashboard/jobs/%2e%2e", "/dashboard/failed/%2E.", "/dashboard/jobs/.%2e"):
        url = client.make_url("").with_path(dots, encoded=True)
        assert (await client.session.get(url)).status == 404, dots


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    async for ctx in browser.launch():
        yield ctx


async def test_in_chromium_no_gadget_fetches_the_api_and_stored_data_stays_text(
    client: TestClient, make_token: TokenFactory, background_worker: None, context: Any
) -> None:
    token = await make_token("alice", "view", *ALL_SCOPES)
    started = await client.post(
        "/selftest/async/start?wait=true", json={"message": PAYLOAD}, headers=bearer(token)
    )
    assert started.status == 200, await started.text()
    base = str(client.make_url("")).rstrip("/")
    page = await context.new_page()
    fetched: list[str] = []
    violations: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    await page.goto(base + "/dashboard/")
    await page.evaluate("(t) => sessionStorage.setItem('brickyard-token', t)", token)
    for gadget in GADGETS:
        await page.goto(base + gadget)
        await page.wait_for_timeout(300)
    api = [u for u in fetched if not u.removeprefix(base).startswith(("/dashboard/", "/favicon"))]
    assert api == [], api

    # The stored payload, on the job list and the job page, is text.
    await page.goto(base + "/dashboard/jobs")
    row = page.locator("#jobs tr", has_text="selftest").first
    await row.wait_for()
    await row.locator("a").first.click()
    await page.get_by_text("window.pwned=2", exact=False).first.wait_for()
    assert await page.evaluate("window.pwned") is None
    await page.goto(base + "/docs")
    await page.locator("#api details").first.wait_for()
    assert violations == [], violations
