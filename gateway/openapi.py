"""The OpenAPI 3.1 document, generated from the gateway's router so that it cannot drift.

Every route the application registers is an operation: its path and path parameters come from
the router, its description from the handler's docstring, its security from the scope the
handler is marked with (:func:`gateway.http.requires_scope`, :func:`gateway.http.public`), its tag
from the module (the API family) that defines it. What the router cannot know comes from
registries keyed by handler: summaries (:mod:`gateway.openapi_summaries`), body and response
models (:mod:`gateway.openapi_bodies`, TypedDicts turned into JSON Schema components by
:mod:`gateway.openapi_types`), query parameters, headers and success codes
(:mod:`gateway.openapi_details`); a test checks that every key there names a registered handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway import api_models
from gateway.openapi_bodies import BODIES, RESPONSES, Body
from gateway.openapi_details import PARAMETERS, SUCCESS
from gateway.openapi_summaries import SUMMARIES
from gateway.openapi_types import SchemaRegistry

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
ERROR_MODELS: dict[str, Any] = {
    tag: api_models.ApolloEnvelope for tag in TAGS.values() if tag.startswith("Apollo")
}
ERROR_MODELS["Synapse schema registry"] = api_models.SynapseError
# A family's 2xx body where a handler names none in gateway.openapi_bodies.RESPONSES.
FAMILY_SUCCESS: dict[str, Any] = {**ERROR_MODELS, "Synapse schema registry": dict[str, Any]}
# Routes that answer with something other than JSON.
TEXT_MEDIA = {"operations.metrics": "text/plain", "operations.docs": "text/html"}
TEXT_FAMILIES = {"Dashboard": "text/html"}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# {name} or {name:regex} in an aiohttp path, as its compiled pattern spells it.
_VARIABLE = re.compile(r"\(\?P<(\w+)>(.*?)\)")
_ALTERNATIVES = re.compile(r"[\w.-]+(\|[\w.-]+)+")

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `brickyard token create`; each route names the scope it needs.",
    }
}


def handler_key(handler: Callable[..., Any]) -> str:
    """``module.function``: how :mod:`gateway.openapi_details` names a handler."""
    return f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"


def openapi_document(app: web.Application) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    registry = SchemaRegistry()
    for route in app.router.routes():
        if route.method in ("HEAD", "*") or route.resource is None:
            continue  # HEAD mirrors each GET
        path, path_parameters = _path_template(route.resource)
        operation = _operation(route, path_parameters, registry)
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
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": dict(sorted(registry.components.items())),
        },
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


def _operation(
    route: web.AbstractRoute, path_parameters: list[dict[str, Any]], registry: SchemaRegistry
) -> dict[str, Any]:
    handler = route.handler
    key = handler_key(handler)
    tag = _tag(key.split(".", 1)[0])
    paragraphs = [" ".join(p.split()) for p in (handler.__doc__ or "").split("\n\n")]
    paragraphs = [p for p in paragraphs if p]
    operation: dict[str, Any] = {
        "operationId": key,
        "tags": [tag],
        # A route without one (another family's new route) still gets a readable line.
        "summary": SUMMARIES.get(key) or handler.__name__.replace("_", " ").capitalize(),
        "parameters": [
            _named_enum(parameter, registry)
            for parameter in [*path_parameters, *PARAMETERS.get(key, [])]
        ],
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
    operation["description"] = "\n\n".join([*paragraphs, access])
    body = BODIES.get(key)
    if body is not None:
        operation["requestBody"] = _request_body(key, body, registry)
    operation["responses"] = _responses(
        key, tag, getattr(handler, "is_public", False), body, registry
    )
    return operation


def _request_body(key: str, body: Body, registry: SchemaRegistry) -> dict[str, Any]:
    schema = registry.schema(body.model)
    if "$ref" not in schema:  # named once, or a generator makes a model per alias and media type
        name = "".join(part.capitalize() for part in re.split(r"[._]", key)) + "Body"
        registry.components[name] = schema
        schema = registry.ref(name)
    content: dict[str, Any] = {}
    for media_type in body.media_types:
        content[media_type] = {"schema": schema}
        if body.examples:
            content[media_type]["examples"] = {
                f"example{n}": {"value": example} for n, example in enumerate(body.examples, 1)
            }
    for media_type, model in body.alternatives.items():
        content[media_type] = {"schema": registry.schema(model)}
    return {"required": body.required, "content": content}


def _named_enum(parameter: dict[str, Any], registry: SchemaRegistry) -> dict[str, Any]:
    """An enum parameter's schema as a named component: one ``Flag`` or ``SchemaType`` model in
    a generated client, not one per operation and alias path."""
    schema = parameter["schema"]
    if "enum" not in schema:
        return parameter
    words = parameter["name"].split("_")
    name = (
        "Flag"
        if schema["enum"] == ["true", "false"]
        else "".join(w[:1].upper() + w[1:] for w in words)
    )
    taken = registry.components.get(name)
    n = 1
    while taken is not None and taken != schema:
        n += 1
        taken = registry.components.get(f"{name}{n}")
    name = name if n == 1 else f"{name}{n}"
    registry.components[name] = schema
    return {**parameter, "schema": registry.ref(name)}


def _tag(module: str) -> str:
    prefixes = sorted(TAGS, key=len, reverse=True)
    return next((TAGS[p] for p in prefixes if module.startswith(p)), "Other")


def _success_content(key: str, tag: str, model: Any, registry: SchemaRegistry) -> dict[str, Any]:
    media_type = TEXT_MEDIA.get(key) or TEXT_FAMILIES.get(tag)
    if media_type is not None:
        return {media_type: {"schema": {"type": "string"}}}
    return {"application/json": {"schema": registry.schema(model)}}


def _responses(
    key: str, tag: str, public: bool, body: Body | None, registry: SchemaRegistry
) -> dict[str, Any]:
    error = {
        "content": {
            "application/json": {"schema": registry.schema(ERROR_MODELS.get(tag, api_models.Error))}
        }
    }
    models = RESPONSES.get(key, {})
    success = SUCCESS.get(key) or {code: "Success" for code in models} or {"2XX": "Success"}
    responses: dict[str, Any] = {}
    for code, text in success.items():
        if code.startswith("2"):
            model = models.get(code, FAMILY_SUCCESS.get(tag, dict[str, Any]))
            responses[code] = {"description": text}
            if model is not None:  # None: an empty body
                responses[code]["content"] = _success_content(key, tag, model, registry)
        else:
            responses[code] = {"description": text, **error}
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
