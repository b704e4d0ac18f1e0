"""The collection page for building engineers (issue 22), in real Chromium: a Brick model
imported, then its classes chart, the entity browser, the equipment -> point and feeds tree,
a SPARQL query, the SHACL summary and the Turtle download. Screenshots in test-output/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import rdflib
from aiohttp.test_utils import TestClient

from tests import browser
from tests.acceptance.test_dashboard import sign_in
from tests.conftest import bearer
from tests.import_helpers import BRICK_MODELS, live_cli
from tests.integration.test_import_brick import brick_collection

AHU = "http://example.org#ahu1"


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    async for ctx in browser.launch():
        yield ctx


async def imported(client: TestClient, make_token: Any, tmp_path: Path) -> str:
    cli = await live_cli(client, make_token)
    await brick_collection(client, cli, "site")
    code, _, err = await cli.run(
        "import", "brick", str(BRICK_MODELS / "g36-combined-ahu-vav.ttl"),
        "--ercollection", "site", "--journal", str(tmp_path / "journal"),
    )  # fmt: skip
    assert code == 0, err
    return cli.token


async def test_the_fragment_needs_a_token_and_a_role_on_the_collection(
    client: TestClient, make_token, background_worker, tmp_path: Path
) -> None:
    token = await imported(client, make_token, tmp_path)
    path = "/dashboard/fragments/collections/site"
    assert (await client.get(path)).status == 401
    stranger = await make_token("mallory", "apollo_read")
    assert (await client.get(path, headers=bearer(stranger))).status == 403
    page = await client.get(f"{path}?entity={quote(AHU, safe='')}", headers=bearer(token))
    text = await page.text()
    assert page.status == 200 and "brick:VAV" in text and "Supply_Air_Temperature_Sensor" in text
    refused = await client.get(
        f"{path}?sparql=DELETE+WHERE+%7B%3Fs+%3Fp+%3Fo%7D", headers=bearer(token)
    )
    assert refused.status == 200 and 'id="sparql-error"' in await refused.text()


async def test_the_collection_page_in_chromium(
    client: TestClient, make_token, background_worker, context: Any, tmp_path: Path
) -> None:
    token = await imported(client, make_token, tmp_path)
    page = await context.new_page()
    await sign_in(page, client, token, "/dashboard/collections")
    await page.get_by_role("link", name="site", exact=True).click()
    await page.locator("#class-chart").wait_for()
    assert "AHU" in (await page.locator("#class-chart").text_content() or "")

    await page.get_by_label("Search by id or name").fill("ahu1")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url("**/dashboard/collections/site?q=ahu1")
    await page.get_by_role("link", name=AHU).click()
    tree = page.locator("#entity-tree")
    await tree.wait_for()
    text = await tree.inner_text()
    assert "brick:AHU" in text and "brick:VAV" in text and "zone1" in text  # ahu -> vav -> zone
    assert "point:" in text
    await page.screenshot(path=browser.screenshot_path("collection-tree"), full_page=True)

    await page.get_by_label("Query", exact=False).fill("SELECT ?vav WHERE { ?vav a brick:VAV }")
    await page.get_by_role("button", name="Run query").click()
    await page.wait_for_url("**/dashboard/collections/site?sparql=*")
    results = page.locator("#sparql-results")
    await results.wait_for()
    assert "vav1" in await results.inner_text()
    await page.screenshot(path=browser.screenshot_path("collection-sparql"), full_page=True)

    await page.get_by_role("button", name="Validate the export").click()
    verdict = page.locator("#shacl-verdict")
    await verdict.wait_for(timeout=60_000)
    assert "violations" in await verdict.inner_text()
    await page.screenshot(path=browser.screenshot_path("collection-shacl"), full_page=True)

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download Turtle export").click()
    download = await waiting.value
    saved = tmp_path / "site.ttl"
    await download.save_as(saved)
    assert download.suggested_filename == "site.ttl"
    graph = rdflib.Graph().parse(saved, format="turtle")
    assert (rdflib.URIRef(AHU), None, None) in graph
