"""Every body in /openapi.json is typed, every operation has a written summary, and the README's
curl bodies are the document's examples and fit its schemas."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from gateway.openapi import handler_key
from gateway.openapi_bodies import BODIES, NO_BODY, RESPONSES
from gateway.openapi_summaries import SUMMARIES
from tests.readme_blocks import shell_blocks

BODY_METHODS = ("post", "put", "patch")
# curl -X METHOD [$B or "$B]/path[?query] ... -d '<json>' (bodies in single quotes only: the
# double-quoted ones interpolate shell variables).
CURL_BODY = re.compile(r"-X (POST|PUT) \"?\$B(/[^\s\"?]*)[^\n]*?-d '([^']*)'")


async def document(client: TestClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status == 200
    return await response.json()


def validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """``schema`` with the document's components beside it, so that its $refs resolve."""
    return Draft202012Validator({**schema, "components": doc["components"]})


def resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


async def test_every_body_taking_operation_has_a_typed_request_schema(client: TestClient) -> None:
    doc = await document(client)
    handlers = {handler_key(r.handler) for r in client.app.router.routes()}
    body_handlers = {
        handler_key(r.handler)
        for r in client.app.router.routes()
        if r.method.lower() in BODY_METHODS
    }
    assert body_handlers <= set(BODIES) | NO_BODY, body_handlers - set(BODIES) - NO_BODY
    assert not set(BODIES) & NO_BODY
    assert set(BODIES) | NO_BODY <= handlers
    for path, method, op in operations(doc):
        key = (
            op["operationId"].rsplit("_", 1)[0]
            if re.search(r"_\d+$", op["operationId"])
            else op["operationId"]
        )
        if method not in BODY_METHODS:
            continue
        if key in NO_BODY:
            assert "requestBody" not in op, (path, method)
            continue
        for media_type, content in op["requestBody"]["content"].items():
            schema = resolved(doc, content["schema"])
            assert schema.get("type") or schema.get("anyOf"), (path, method, media_type, schema)
            Draft202012Validator.check_schema(schema)


async def test_every_response_has_a_schema(client: TestClient) -> None:
    doc = await document(client)
    for path, method, op in operations(doc):
        for code, response in op["responses"].items():
            if RESPONSES.get(op["operationId"], {}).get(code, ...) is None:
                assert "content" not in response  # documented as empty
                continue
            assert response.get("content"), (path, method, code)
            for media_type, content in response["content"].items():
                # {} (any JSON) only where the body is any JSON: a job's result
                assert content["schema"] or op["operationId"] == "core.get_job", (path, code)
                assert media_type != "application/json" or "schema" in content
    errors = doc["components"]["schemas"]
    assert errors["SynapseError"]["required"] == ["reason"]
    assert set(errors["ApolloEnvelope"]["required"]) == {
        "status",
        "transactionId",
        "paging",
        "data",
    }
    create = doc["paths"]["/repo/v1/schema/organization"]["post"]["responses"]
    assert create["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Organization")
    assert create["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/SynapseError")
    er = doc["paths"]["/apollo/er/entities"]["post"]["responses"]
    assert er["207"]["content"]["application/json"]["schema"]["$ref"].endswith("/ApolloEnvelope")


async def test_every_operation_has_a_written_summary(client: TestClient) -> None:
    doc = await document(client)
    handlers = {handler_key(r.handler) for r in client.app.router.routes()}
    assert handlers <= set(SUMMARIES), handlers - set(SUMMARIES)
    for path, method, op in operations(doc):
        assert op["summary"] and op["summary"][0].isupper(), (path, method)
    summaries = [op["summary"] for *_, op in operations(doc)]
    assert len(set(summaries)) > 0.9 * len(set(handlers))  # one per handler, not one per family


async def test_the_document_examples_fit_their_schemas(client: TestClient) -> None:
    doc = await document(client)
    checked = 0
    for *_, op in operations(doc):
        for content in op.get("requestBody", {}).get("content", {}).values():
            for example in content.get("examples", {}).values():
                validator(doc, content["schema"]).validate(example["value"])
                checked += 1
    assert checked > 20


def readme_bodies() -> list[tuple[str, str, Any]]:
    found = []
    for block in shell_blocks():
        for method, path, body in CURL_BODY.findall(block.replace("\\\n", " ")):
            found.append((method.lower(), path, json.loads(body)))
    return found


def template(doc: dict[str, Any], path: str) -> str:
    for candidate in doc["paths"]:
        pattern = re.sub(
            r"\{[^}]+\}", "[^/]+", re.escape(candidate).replace(r"\{", "{").replace(r"\}", "}")
        )
        if re.fullmatch(pattern, path):
            return candidate
    raise AssertionError(f"The README calls {path}, which the document does not describe")


async def test_the_readme_bodies_are_examples_and_fit_the_schemas(client: TestClient) -> None:
    doc = await document(client)
    bodies = readme_bodies()
    assert len(bodies) >= 10, bodies  # the parser still finds the README's calls
    for method, path, body in bodies:
        op = doc["paths"][template(doc, path)][method]
        content = op["requestBody"]["content"]["application/json"]
        validator(doc, content["schema"]).validate(body)
        examples = [example["value"] for example in content["examples"].values()]
        assert body in examples, (method, path, body)


async def test_a_body_against_its_type_is_refused_by_the_schema(client: TestClient) -> None:
    """The schemas say something: what the parsers refuse, the schemas refuse too."""
    doc = await document(client)
    start = doc["paths"]["/selftest/async/start"]["post"]["requestBody"]["content"]
    assert not validator(doc, start["application/json"]["schema"]).is_valid({"sleepSeconds": 61})
    org = doc["paths"]["/repo/v1/schema/organization"]["post"]["requestBody"]["content"]
    assert not validator(doc, org["application/json"]["schema"]).is_valid({})
    response = await client.post("/selftest/async/start", json={"sleepSeconds": 61})
    assert response.status == 401  # no token: refused before the body is read, as documented
