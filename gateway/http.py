"""Small helpers every handler uses: read a JSON body, who is calling, how to answer."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web

from gateway.keys import PRINCIPAL, SERVICES, TRANSACTION_ID
from shared.auth import Principal
from shared.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from shared.jobs import JobRecord
from shared.jobs.service import IdempotencyKey
from shared.paging import (
    SIZE_HEADER,
    TOKEN_HEADER,
    PageRequest,
    page_request,
    requested_size,
    sent_token,
)
from shared.services import Services
from shared.tenancy.admission import admitting
from shared.text import holds_long_digit_run, holds_unstorable_text, json_text

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


def apollo_family(handler: HandlerT) -> HandlerT:
    """Mark an Apollo route outside ``/apollo/`` (the docs' ``/api/...`` and root status-log
    paths): its errors use the Apollo envelope too."""
    handler.is_apollo = True  # type: ignore[attr-defined]
    return handler


def is_apollo(request: web.Request) -> bool:
    return request.path.startswith("/apollo/") or getattr(
        request.match_info.handler, "is_apollo", False
    )


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def transaction_id(request: web.Request) -> str:
    return request[TRANSACTION_ID]


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a JSON number; the request body must be standard JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadRequest(f"The number {text[:40]} in the request body is too large")
    return value


async def read_json(
    request: web.Request, media_types: tuple[str, ...] = ("application/json",)
) -> Any:
    if request.content_type not in media_types:
        raise UnsupportedMediaType(
            f"Expected Content-Type {' or '.join(media_types)}, "
            f"got '{request.content_type or 'none'}'"
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
    if not holds_long_digit_run(raw):
        # orjson refuses what the checks below refuse (NaN, Infinity, overflowing numbers,
        # invalid UTF-8, deep nesting), ten times faster; whatever it refuses is read again
        # below, for the precise reason. A run of 19+ digits may be an integer beyond 64 bits,
        # which orjson would read as a float.
        with contextlib.suppress(orjson.JSONDecodeError):
            return orjson.loads(raw)
    try:
        # Python accepts NaN, Infinity and numbers that overflow to inf; JSON and PostgreSQL don't.
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Malformed JSON in the request body: {exc}") from exc
    except ValueError as exc:  # only an integer over Python's digit limit gets here
        raise BadRequest("A number in the request body has too many digits") from exc
    except RecursionError as exc:
        raise BadRequest("The JSON in the request body is nested too deeply") from exc


async def submit_job(request: web.Request, kind: str, job_request: Any) -> JobRecord:
    """Record and enqueue a job for the caller.

    Its request is stored before any worker reads it, so text PostgreSQL cannot store is refused
    here, once for every kind, rather than failing the insert with a 500."""
    if holds_unstorable_text(job_request):
        raise BadRequest(
            "The request holds a character that cannot be stored (NUL or a lone surrogate)"
        )
    svc, who = services(request), principal(request)
    return await svc.jobs.submit(
        kind,
        who,
        job_request,
        idempotency=await idempotency_key(request),
        stage=admitting(svc.settings, who.id),
    )


# new_job_token's shape: anything else names no job, so it is answered without the database.
_JOB_TOKEN = re.compile(r"[0-9a-f]{32}")


def job_token(request: web.Request) -> str:
    """The ``{token}`` of a job route."""
    token = request.match_info["token"]
    if not _JOB_TOKEN.fullmatch(token):
        raise NotFound("No job has that token; a job token is 32 lowercase hex characters")
    return token


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers, dumps=json_text)


def encoded_json_response(text: str, status: int = 200) -> web.Response:
    """A body stored already encoded (a job's result), sent without parsing it again."""
    return web.Response(text=text, status=status, content_type="application/json")


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


def async_header(request: web.Request) -> bool:
    """The Apollo ``async`` header of a call that may run as a job: true or false (absent)."""
    value = request.headers.get("async", "false").strip().lower()
    if value not in ("true", "false"):
        raise BadRequest("The async header must be true or false")
    return value == "true"


def query_flag(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"Query parameter '{name}' must be true or false")


async def page_asked(
    request: web.Request, *query: object, size: int | None = None, size_param: str = "size"
) -> PageRequest:
    """The page asked for (size by query parameter or ``PageSize`` header, unless the caller
    already knows it); its continuation token (header or query parameter) must have been issued
    for this same query."""
    if size is None:
        size = requested_size(request.query.get(size_param), request.headers.get(SIZE_HEADER))
    token = sent_token(request.headers.get(TOKEN_HEADER), request.query.get(TOKEN_HEADER))
    return await page_request(services(request).pool, token, size, *query)


MAX_IDEMPOTENCY_KEY_LENGTH = 255


async def idempotency_key(request: web.Request) -> IdempotencyKey | None:
    """The ``Idempotency-Key`` header with a digest of what it came with (route and body)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable "
            "characters"
        )
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(await request.read())
    # Headers that change what an ER call does (fileName: which uploaded file an import reads).
    for name in ("ercollectionid", "async", "fileName"):
        digest.update(f"\n{name}: {request.headers.get(name, '')}".encode())
    return IdempotencyKey(key, digest.hexdigest())
