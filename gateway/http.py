"""Small helpers every handler uses: read a JSON body, who is calling, how to answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from gateway.keys import PRINCIPAL, SERVICES, TRANSACTION_ID
from shared.auth import Principal
from shared.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from shared.services import Services

HandlerT = TypeVar("HandlerT", bound=Callable[[web.Request], Awaitable[web.StreamResponse]])


def requires_scope(scope: str) -> Callable[[HandlerT], HandlerT]:
    """Mark the scope a route needs; the auth middleware checks it before the handler runs."""

    def mark(handler: HandlerT) -> HandlerT:
        handler.required_scope = scope  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: HandlerT) -> HandlerT:
    """Mark a route that needs no token at all."""
    handler.is_public = True  # type: ignore[attr-defined]
    return handler


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def transaction_id(request: web.Request) -> str:
    return request[TRANSACTION_ID]


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"Expected Content-Type application/json, got '{request.content_type or 'none'}'"
        )
    limit = request.app[SERVICES].settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The request body is over the {limit} byte limit")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"The request body is over the {limit} byte limit") from exc
    if not raw.strip():
        raise BadRequest("The request body is empty; expected JSON")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Malformed JSON in the request body: {exc}") from exc
    except RecursionError as exc:
        raise BadRequest("The JSON in the request body is nested too deeply") from exc


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        body, status=status, headers=headers, dumps=lambda v: json.dumps(v, ensure_ascii=False)
    )


def apollo_response(
    request: web.Request,
    data: Any,
    *,
    status: int = 200,
    message: str = "Operation completed",
    paging: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The Apollo envelope: status, transactionId, paging, data."""
    body = {
        "status": {"message": message, "code": str(status)},
        "transactionId": transaction_id(request),
        "paging": paging,
        "data": data,
    }
    return json_response(body, status=status, headers=headers)


def query_flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"Query parameter '{name}' must be true or false")
