"""The one paging scheme of every Apollo list: page sizes and signed, query-bound continuation
tokens (schema service, ER service and status logs alike).

Size: the query parameter (``size``, or ``limit`` for status logs) or else the ``PageSize``
header the Apollo docs use; ASCII digits only, 1 to 1000, 100 when absent. ``+5``, `` 5`` and
non-ASCII digits are refused rather than guessed at.

Token: ``<payload>.<signature>``, both base64url. The payload names the query it belongs to (a
digest of the endpoint and its arguments, e.g. the collection id and the filter) and where the
next page starts; the signature is an HMAC with a secret kept in the database
(``server_secrets``). A client can neither edit a token nor replay one against another query or
collection: both are a 400. Clients send it back in the ``continuationToken`` header, as the
Apollo pages do, or as a ``continuationToken`` query parameter (:func:`sent_token`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.db import Executor
from shared.errors import BadRequest
from shared.store_secrets import paging_secret
from shared.text import whole_number

Shown = TypeVar("Shown")

DEFAULT_SIZE = 100
MAX_SIZE = 1000
TOKEN_HEADER = "continuationToken"
SIZE_HEADER = "PageSize"
NOT_OURS = "The continuationToken header is not a token this service issued"


def sent_token(header: str | None, query: str | None) -> str | None:
    """The continuation token a client sent back: the Apollo pages send the body's
    ``paging.continuationToken`` in a header; a client that puts it in the query string (where
    ``size`` goes) gets the same page. Ignoring it answered page 1 again, with the same token,
    and a client looping until the token is null never stopped."""
    if header and query and header != query:
        raise BadRequest(
            "The continuationToken header and query parameter differ: send the token once"
        )
    return header or query or None


def page_size(raw: str | None, name: str = "size", *, where: str = "Query parameter") -> int:
    """The one size rule: absent is the default, else ASCII digits from 1 to ``MAX_SIZE``."""
    if raw is None or raw == "":
        return DEFAULT_SIZE
    size = whole_number(raw, 1, MAX_SIZE)
    if size is None:
        raise BadRequest(f"{where} '{name}' must be a whole number from 1 to {MAX_SIZE}")
    return size


def requested_size(query_value: str | None, header_value: str | None, name: str = "size") -> int:
    """The page size asked for by query parameter, else by the ``PageSize`` header."""
    if query_value is not None:
        return page_size(query_value, name)
    return page_size(header_value, SIZE_HEADER, where="Header")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of one query: its binding, size, and where it resumes (None: the first page)."""

    binding: str
    size: int
    after: Any
    secret: bytes

    def token_for(self, last: Any) -> str:
        payload = json.dumps({"q": self.binding, "a": last}, separators=(",", ":")).encode()
        signature = hmac.new(self.secret, payload, hashlib.sha256).digest()[:18]
        return f"{_b64(payload)}.{_b64(signature)}"

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than a page, to know whether another page follows."""
        return self.size + 1

    def page(
        self, total: int, rows: list[Shown], last_of: Callable[[Shown], Any]
    ) -> tuple[list[Shown], dict[str, Any]]:
        """This page's rows and the envelope's paging (a token only when more rows follow)."""
        shown = rows[: self.size]
        token = self.token_for(last_of(shown[-1])) if len(rows) > self.size else None
        return shown, {"totalCount": total, "continuationToken": token}

    def after_as(self, kind: type, first: Any) -> Any:
        """Where the page resumes, checked to be of the shape this query's tokens carry."""
        if self.after is None:
            return first
        if not isinstance(self.after, kind) or isinstance(self.after, bool):
            raise BadRequest(NOT_OURS)
        return self.after


def binding_of(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:24]


async def page_request(
    db: Executor,
    token: str | None,
    size: str | int | None,
    *query: object,
) -> PageRequest:
    """Check the request's size and continuation token against the query they are for."""
    secret = await paging_secret(db)
    binding = binding_of(*query)
    request = PageRequest(binding, size if isinstance(size, int) else page_size(size), None, secret)
    if not token:
        return request
    try:
        payload_text, signature_text = token.split(".", 1)
        payload, signature = _unb64(payload_text), _unb64(signature_text)
        decoded = json.loads(payload)
    except (ValueError, binascii.Error) as exc:
        raise BadRequest(NOT_OURS) from exc
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:18]
    if not hmac.compare_digest(signature, expected) or not isinstance(decoded, dict):
        raise BadRequest(NOT_OURS)
    if decoded.get("q") != binding:
        raise BadRequest("The continuationToken was issued for another query or collection")
    return PageRequest(binding, request.size, decoded.get("a"), secret)
