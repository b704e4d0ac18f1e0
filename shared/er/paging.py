"""Opaque continuation tokens for keyset paging (sent back in the ``continuationToken`` header)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from shared.errors import BadRequest

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def encode_token(position: Any) -> str:
    raw = json.dumps({"after": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None) -> Any:
    """The position a token resumes after; None for the first page."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequest("The continuationToken header is not a token this service issued") from exc


def page_size(raw: str | None, name: str = "size") -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(
            f"Query parameter '{name}' must be a whole number from 1 to {MAX_PAGE_SIZE}"
        )
    return size
