"""The OpenAPI 3.1 document, generated from the gateway's router so that it cannot drift.

Every route the application registers is an operation: its path and path parameters come from
the router, its summary and description from the handler's docstring, its security from the
scope the handler is marked with (:func:`gateway.http.requires_scope`, :func:`gateway.http.public`),
its tag from the module (the API family) that defines it. What the router cannot know (query
parameters, headers, body shapes, success codes) comes from :mod:`gateway.openapi_details`,
keyed by handler; a test checks that every key there names a registered handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.openapi_details import BODIES, PARAMETERS, SUCCESS, Body

# By the module that defines the handler (its API family), longest prefix first.
TAGS = {
    "core": "Jobs",
    "synapse": "Synapse schema registry",
    "apollo_schema": "Apollo schema service",
    "schema_common": "Apollo schema service",
    "apollo_er": "Apollo ER service",
    "export": "Apollo ER service",
    "failed_items": "Apollo ER service",
    "apollo_graph": "Apollo graph service",
    "apollo_ontology": "Apollo ontology service",
    "apollo_changefeed": "Apollo change feed",
    "status_logs": "Apollo status logs",
    "jobs_list": "Jobs",
    "dashboard": "Dashboard",
    "operations": "Operations",
}
ERROR_SCHEMAS = {tag: "ApolloEnvelope" for tag in TAGS.values() if tag.startswith("Apollo")}
ERROR_SCHEMAS["Synapse schema registry"] = "SynapseError"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# {name} or {name:regex} in an aiohttp path, as its compiled pattern spells it.
_VARIABLE = re.compile(r"\(\?P<(\w+)>(.*?)\)")
_ALTERNATIVES = re.compile(r"[\w.-]+(\|[\w.-]+)+")

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `brickyard token create`; each route names the scope it needs.",
        }
    },
    "schemas": {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                }
            },
        },
        "SynapseError": {
            "type": "object",
            "properties": {"concreteType": {"type": "string"}, "reason": {"type": "string"}},
        },
        "ApolloEnvelope": {
            "type": "object",
            "properties": {
                "status": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}, "code": {"type": "string"}},
                },
                "transactionId": {"type": ["string", "null"]},
                "paging": {"type": ["object", "null"]},
                "data": {},
            },
        },
    },
}


def handler_key(handler: Callable[..., Any]) -> str:
    """``module.function``: how :mod:`gateway.openapi_details` names a handler."""
    return f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"


def openapi_document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or route.resource is None:
            continue  # HEAD mirrors each GET
        path, path_parameters = _path_template(route.resource)
        operation = _operation(route, path_parameters)
        operation["operationId"] = _unique(operation["operationId"], operation_ids)
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Brickyard",
            "version": _version(),
            "description": "A Synapse-compatible JSON schema registry, an Apollo-style schema "
            "and ER service, and the job core under both. Generated from the gateway's routes.",
        },
        "tags": [{"name": name} for name in dict.fromkeys(TAGS.values())],
        "paths": dict(sorted(paths.items())),
        "components": COMPONENTS,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brickyard")
    except PackageNotFoundError:
        return "0"


def _unique(operation_id: str, seen: set[str]) -> str:
    candidate, n = operation_id, 1
    while candidate in seen:  # one handler behind several paths (aliases)
        n += 1
        candidate = f"{operation_id}_{n}"
    seen.add(candidate)
    return candidate


def _path_template(resource: web.AbstractResource) -> tuple[str, list[dict[str, Any]]]:
    pattern = resource.get_info().get("pattern")
    parameters = []
    for name, expression in _VARIABLE.findall(pattern.pattern if pattern is not None else ""):
        schema: dict[str, Any] = {"type": "string"}
        if _ALTERNATIVES.fullmatch(expression):
            schema["enum"] = expression.split("|")
        elif expression == "[^{}/]+":  # aiohttp's default: one non-empty segment
            schema["pattern"] = "^[^/]+$"
        else:
            schema["minLength"] = 1
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return resource.canonical, parameters


def _operation(route: web.AbstractRoute, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    handler = route.handler
    key = handler_key(handler)
    tag = _tag(key.split(".", 1)[0])
    paragraphs = [" ".join(p.split()) for p in (handler.__doc__ or "").split("\n\n")]
    paragraphs = [p for p in paragraphs if p]
    summary = paragraphs[0] if paragraphs else handler.__name__.replace("_", " ").capitalize()
    operation: dict[str, Any] = {
        "operationId": key,
        "tags": [tag],
        "summary": summary,
        "parameters": [*path_parameters, *PARAMETERS.get(key, [])],
    }
    scope = getattr(handler, "required_scope", None)
    if getattr(handler, "is_public", False):
        operation["security"] = []
        access = "No token needed."
    else:
        operation["security"] = [{"bearer": []}]
        access = f"Needs a token{f' with the `{scope}` scope' if scope else ''}."
        if scope:
            operation["x-brickyard-scope"] = scope
    operation["description"] = "\n\n".join([*paragraphs[1:], access])
    body = BODIES.get(key)
    if body is None and route.method in BODY_METHODS:
        body = Body({}, required=False)
    if body is not None:
        operation["requestBody"] = {
            "required": body.required,
            "content": {"application/json": {"schema": body.schema}},
        }
    operation["responses"] = _responses(key, tag, getattr(handler, "is_public", False), body)
    return operation


def _tag(module: str) -> str:
    prefixes = sorted(TAGS, key=len, reverse=True)
    return next((TAGS[p] for p in prefixes if module.startswith(p)), "Other")


def _responses(key: str, tag: str, public: bool, body: Body | None) -> dict[str, Any]:
    schema = ERROR_SCHEMAS.get(tag, "Error")
    error = {
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    }
    success = SUCCESS.get(key, {"2XX": "Success"})
    responses: dict[str, Any] = {code: {"description": text} for code, text in success.items()}
    failures = {"503": "PostgreSQL or Redis is unavailable (with Retry-After)"}
    if not public:
        failures |= {
            "400": "Bad input: malformed JSON, a bad parameter or header",
            "401": "No token, or an unknown, expired or revoked one",
            "403": "The token lacks the scope, or the caller lacks access",
            "404": "Not found",
        }
    if body is not None:
        failures |= {"413": "The body is over the size limit", "415": "The body is not JSON"}
    for code, text in failures.items():
        responses.setdefault(code, {"description": text, **error})
    return dict(sorted(responses.items()))
