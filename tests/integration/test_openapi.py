"""/openapi.json describes exactly the routes the gateway serves; /docs renders it offline."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from gateway.openapi import handler_key
from gateway.openapi_bodies import BODIES, NO_BODY, RESPONSES
from gateway.openapi_details import PARAMETERS, SUCCESS
from gateway.openapi_summaries import SUMMARIES


def registered(client: TestClient) -> set[tuple[str, str]]:
    return {
        (route.resource.canonical, route.method.lower())
        for route in client.app.router.routes()
        if route.method not in ("HEAD", "*") and route.resource is not None
    }


async def document(client: TestClient) -> dict:
    response = await client.get("/openapi.json")
    assert response.status == 200
    return await response.json()


async def test_every_route_is_documented_and_every_documented_path_is_registered(
    client: TestClient,
) -> None:
    doc = await document(client)
    assert doc["openapi"] == "3.1.0"
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == registered(client)
    for family in ("/repo/v1/schema/organization", "/apollo/er/entities", "/async/get/{token}"):
        assert family in doc["paths"]


async def test_details_name_only_registered_handlers(client: TestClient) -> None:
    handlers = {handler_key(route.handler) for route in client.app.router.routes()}
    for table in (PARAMETERS, BODIES, SUCCESS, RESPONSES, SUMMARIES, NO_BODY):
        assert set(table) <= handlers, set(table) - handlers


async def test_operations_are_unique_with_scopes_and_path_parameters(client: TestClient) -> None:
    doc = await document(client)
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert in_path == names, (path, op["operationId"])
    create = doc["paths"]["/repo/v1/schema/type/create/async/start"]["post"]
    assert create["x-brickyard-scope"] == "modify"
    assert create["security"] == [{"bearer": []}]
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert doc["paths"]["/metrics"]["get"]["security"] == []
    assert doc["paths"]["/admin/status"]["get"]["x-brickyard-scope"] == "operator"


async def test_the_docs_page_is_served_without_any_outside_resource(client: TestClient) -> None:
    response = await client.get("/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script>" not in page and "<style>" not in page  # the CSP forbids inline
    script = await client.get("/docs/static/docs.js")
    assert script.status == 200 and 'fetch("/openapi.json")' in await script.text()
    style = await client.get("/docs/static/docs.css")
    assert style.status == 200 and "@import" not in await style.text()
    assert (await client.get("/docs/static/other.js")).status == 404
