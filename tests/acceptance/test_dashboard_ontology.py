"""The dashboard's ontology view in real Chromium: walk from AHU to Point by clicking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests import browser
from tests.acceptance.test_dashboard import sign_in
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES
from tests.schema_helpers import create_collection, publish, release, sync


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    async for ctx in browser.launch():
        yield ctx


async def test_walk_the_ontology_by_clicking(
    client: TestClient, make_token: TokenFactory, background_worker: None, context: Any
) -> None:
    token = await make_token("alice", "view", *ALL_SCOPES)
    headers = bearer(token)
    await publish(client, headers, release("1.0"))
    await create_collection(client, headers, "Acme", releaseLine="acme")
    await sync(client, headers, "Acme")
    await sync(client, headers, "Acme", "relationshiptypes")
    page = await context.new_page()
    await sign_in(page, client, token, "/dashboard/ontology/ACME__AHU")
    await page.get_by_role("heading", name="Ontology of ACME__AHU").wait_for()
    out = page.locator("#ontology-out tr", has_text="hasPoint")
    await out.wait_for()
    assert (await out.locator("td").all_inner_texts())[:3] == [
        "ACME__Equipment", "hasPoint", "ACME__Point"
    ]  # fmt: skip
    await page.screenshot(path=browser.screenshot_path("ontology"), full_page=True)
    await out.get_by_role("link", name="ACME__Point").click()
    await page.get_by_role("heading", name="Ontology of ACME__Point").wait_for()
    into = page.locator("#ontology-in tr", has_text="hasPoint")
    await into.wait_for()
    assert (await into.locator("td").all_inner_texts())[0] == "ACME__Equipment"
    assert await page.locator("#ontology-out tr", has_text="None.").count() == 1
