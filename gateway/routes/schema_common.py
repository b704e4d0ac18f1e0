"""What the schema service's route modules share: path forms, domain objects, input helpers.

Every route is served under each base the Apollo schema pages use: their URL sections say
``/apollo/schema/...``, their curl examples also ``/schema/...`` (stats) and bare
``/schemacollections/``, ``/entitytypes/...`` (their {HOST} carries the rest). Each path is
also served with a trailing slash (createSchemaCollection's URL has one). See
docs/apollo-compatibility.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gateway.http import (
    apollo_family,
    apollo_response,
    page_asked,
    principal,
    query_flag,
    read_json,
    services,
    transaction_id,
)
from shared.errors import BadRequest
from shared.paging import PageRequest
from shared.releases.catalog import ReleaseCatalog
from shared.schemas import sync as sync_job
from shared.schemas.collections import SchemaCollections
from shared.schemas.lists import TypeLists
from shared.schemas.rows import TypeSchemaRow
from shared.schemas.rules import Rules
from shared.schemas.sysdata import Caller, item_json
from shared.schemas.typeschemas import TypeSchemas
from shared.schemas.validation import Validation
from shared.text import holds_unstorable_text, storable

BASES = ("/apollo/schema", "/schema", "")
ALL_TYPES = "{schema_type:entitytypes|relationshiptypes|messagetypes|eventtypes}"
READ, ADMIN = "apollo_read", "apollo_admin"
SCHEMA_MEDIA_TYPES = ("application/json", "application/schema+json")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route(table: web.RouteTableDef, method: str, path: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``path`` under every base, with and without a trailing slash."""

    def register(handler: Handler) -> Handler:
        apollo_family(handler)  # errors in the Apollo envelope under every base
        for base in BASES:
            for form in (base + path, base + path + "/"):
                table.route(method, form)(handler)
        return handler

    return register


def catalog(request: web.Request) -> ReleaseCatalog:
    svc = services(request)
    return ReleaseCatalog(svc.pool, sync_job.cache_dir(svc.settings))


def collections(request: web.Request) -> SchemaCollections:
    return SchemaCollections(services(request).pool, catalog(request))


def type_schemas(request: web.Request) -> TypeSchemas:
    return TypeSchemas(services(request).pool, catalog(request))


def type_lists(request: web.Request) -> TypeLists:
    return TypeLists(services(request).pool, catalog(request))


def rules(request: web.Request) -> Rules:
    return Rules(services(request).pool, catalog(request))


def validation(request: web.Request) -> Validation:
    return Validation(services(request).pool, catalog(request))


def caller(request: web.Request) -> Caller:
    """The principal and the correlation id system data records for a write."""
    header = request.headers.get("x-correlation-id") or request.headers.get("correlationid")
    correlation = storable(header, "The x-correlation-id header")[:200] if header else None
    who = principal(request)
    return Caller(who.id, who.name, correlation or transaction_id(request))


def params(request: web.Request) -> dict[str, str]:
    """The path's parameters; text Postgres cannot store (NUL, a lone surrogate) is a 400."""
    return {name: storable(value, f"'{name}'") for name, value in request.match_info.items()}


def header(request: web.Request, name: str) -> str | None:
    value = request.headers.get(name)
    return None if value is None else storable(value, f"The {name} header")


async def read_body(request: web.Request, media_types: tuple[str, ...] = SCHEMA_MEDIA_TYPES) -> Any:
    body = await read_json(request, media_types)
    if holds_unstorable_text(body):
        raise BadRequest("The body holds text that cannot be stored (NUL or a lone surrogate)")
    return body


async def page(request: web.Request, *query: object) -> PageRequest:
    """The page asked for (shared.paging: ``size`` or ``PageSize``, ``continuationToken``)."""
    return await page_asked(request, *query)


def items_response(
    request: web.Request, rows: list[TypeSchemaRow], paging: dict[str, Any]
) -> web.Response:
    system = query_flag(request, "includeSystemData")
    return apollo_response(request, [item_json(r, system) for r in rows], paging=paging)


def item_response(request: web.Request, row: TypeSchemaRow) -> web.Response:
    return apollo_response(request, item_json(row, query_flag(request, "includeSystemData")))
