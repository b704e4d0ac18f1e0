"""The HTTP side of the client commands: one session, bearer auth, and retries that make a
flaky network or a restarting gateway a delay rather than a failed import."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from shared.importer.errors import ImportStopped

# Answers that mean "not now" rather than "no": the gateway is restarting, or PostgreSQL or
# Redis is down for a moment (the gateway says 503 with Retry-After).
TRANSIENT = {502, 503, 504}


class Api:
    """A client of one Brickyard gateway, for one command's run."""

    def __init__(self, url: str, token: str, *, patience_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._patience_s = patience_s  # how long a dependency may stay away before we give up
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Api:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=aiohttp.ClientTimeout(total=120, connect=10),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, decoded JSON body, headers) of an answer in ``ok``; anything else stops."""
        status, payload, answer_headers = await self.raw(method, path, body=body, headers=headers)
        if status not in ok:
            raise ImportStopped(refusal(method, path, status, payload))
        return status, decode(payload), answer_headers

    async def raw(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Send until the server answers something other than a transient failure."""
        assert self._session is not None, "use Api as an async context manager"
        data = None if body is None else orjson.dumps(body)
        sent_headers = dict(headers or {})
        if data is not None:
            sent_headers["Content-Type"] = "application/json"
        deadline, delay = time.monotonic() + self._patience_s, 0.2
        while True:
            try:
                async with self._session.request(
                    method, self.url + path, data=data, headers=sent_headers
                ) as response:
                    payload = await response.read()
                    if response.status not in TRANSIENT:
                        return response.status, payload, dict(response.headers)
                    problem = f"{response.status} {first_line(payload)}"
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                problem = str(exc) or type(exc).__name__
            if time.monotonic() + delay > deadline:
                raise ImportStopped(f"the server at {self.url} is unreachable: {problem}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def decode(payload: bytes) -> Any:
    try:
        return orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return payload.decode(errors="replace")


def message_of(body: Any) -> str:
    """The error message of any family's error body."""
    if isinstance(body, dict):
        status = body.get("status")
        if isinstance(status, dict) and status.get("message"):
            return str(status["message"])
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("reason", "errorMessage", "message"):
            if body.get(key):
                return str(body[key])
    return first_line(body if isinstance(body, bytes) else str(body or "").encode())


def first_line(payload: bytes) -> str:
    text = payload.decode(errors="replace").strip()
    return text.splitlines()[0][:300] if text else "(no body)"


def refusal(method: str, path: str, status: int, payload: bytes) -> str:
    message = message_of(decode(payload))
    if status == 401:
        return f"the server refused the token (401): {message}"
    return f"{method} {path} answered {status}: {message}"
