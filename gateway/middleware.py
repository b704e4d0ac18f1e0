"""Request logging, the one place errors become HTTP responses, and bearer-token auth."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import ClientPayloadError, web

from gateway.dashboard import tracker_pages
from gateway.http import is_apollo, json_response
from gateway.keys import PRINCIPAL, REQUEST_ID, SERVICES, TRANSACTION_ID
from gateway.limits import body_deadline, throttle
from gateway.metrics import bind_request, observe_request
from shared.auth.service import TOKEN_PREFIX
from shared.errors import BrickyardError, TooManyRequests
from shared.outages import confirmed_outage

log = structlog.get_logger("gateway.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SYNAPSE_ERROR = "org.sagebionetworks.repo.model.ErrorResponse"

# Every 503 tells clients when to come back: long enough for a restarting server or a failover,
# about the pool's connect timeout, and short enough that clients recover soon after a blip.
RETRY_AFTER_S = 5


# An access token pasted into a URL must not be copied into every log that keeps the path.
TOKEN_SHAPED = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]{8,}")


# nginx's status for a request whose client closed the connection before the answer.
CLIENT_GONE = 499


# What a handler's read or write raises once its client has gone (a refused connection to
# PostgreSQL is a ConnectionError too: it counts only when the client's connection is closed).
CLIENT_ERRORS = (ConnectionError, ClientPayloadError, web.RequestPayloadError)


def client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


def redacted(path: str) -> str:
    return TOKEN_SHAPED.sub(TOKEN_PREFIX + "[redacted]", path)


def error_body(request: web.Request, status: int, message: str) -> dict[str, Any]:
    """Each API family answers errors in its own wire format."""
    path = request.path
    if path.startswith("/repo/"):
        return {"concreteType": SYNAPSE_ERROR, "reason": message}
    if path.startswith("/apollo/") or is_apollo(request):
        return {
            "status": {"message": message, "code": str(status)},
            "transactionId": request.get(TRANSACTION_ID),
            "paging": None,
            "data": None,
        }
    return {"error": {"status": status, "message": message}}


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    return json_response(error_body(request, status, message), status=status)


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    request[TRANSACTION_ID] = secrets.token_hex(16).upper()
    started = time.perf_counter()
    status = 500
    bind_request(request)
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
            response.headers["X-Request-Id"] = request_id
            return response
        except asyncio.CancelledError:
            if client_gone(request):  # where handlers are cancelled on a disconnect
                status = CLIENT_GONE
                log.info("client went away", method=request.method, path=redacted(request.path))
            raise
        finally:
            elapsed = time.perf_counter() - started
            observe_request(request, status, elapsed)
            log.info(
                "request",
                method=request.method,
                path=redacted(request.path),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _answer(request, handler)
    # Here rather than at each 503 (outages, ServiceUnavailable, /readyz, a job failed with 503).
    if response.status == 503 and not response.prepared:
        response.headers.setdefault("Retry-After", str(RETRY_AFTER_S))
    if response.status == 408:
        response.force_close()  # the rest of the body may still be on its way
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except TooManyRequests as error:
        response = error_response(request, error.status, error.message)
        response.headers["Retry-After"] = str(error.retry_after_s)
        return response
    except BrickyardError as error:
        return error_response(request, error.status, error.message)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SERVICES].settings.max_body_bytes
        return error_response(request, 413, f"The request body is over the {limit} byte limit")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(request, exc.status, exc.reason)
    except Exception as exc:
        if isinstance(exc, CLIENT_ERRORS) and client_gone(request):
            # Not an error of ours: the answer has nowhere to go.
            log.info("client went away", method=request.method, path=redacted(request.path))
            return web.Response(status=CLIENT_GONE)
        dependency = await confirmed_outage(exc, request.app[SERVICES].pool)
        if dependency is None:
            log.exception("unhandled error", method=request.method, path=redacted(request.path))
            return error_response(request, 500, "Internal server error")
        # Expected while a server restarts or the network drops: a warning, no traceback.
        log.warning("dependency unavailable", dependency=dependency, error=str(exc) or repr(exc))
        message = f"{dependency} is unavailable; try again in {RETRY_AFTER_S} seconds"
        return error_response(request, 503, message)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    route_handler = request.match_info.handler
    if request.match_info.http_exception is not None or getattr(route_handler, "is_public", False):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    principal = await request.app[SERVICES].auth.authenticate(bearer)
    required = getattr(route_handler, "required_scope", None)
    if required is not None:
        principal.require_scope(required)
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal.name)
    return await handler(request)


# Tracker URLs become pages before authentication: a browser opening one sends no token.
MIDDLEWARES = [request_context, errors, body_deadline, tracker_pages, authenticate, throttle]
