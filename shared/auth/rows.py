"""The auth store's rows as types (shared/auth/store.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LiveToken:
    """A live token's principal and the scopes the token grants."""

    id: int  # the principal's
    name: str
    scopes: list[str]
