"""The auth store's rows as types (shared/auth/store.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class LiveToken:
    """A live token's principal and the scopes the token grants."""

    id: int  # the principal's
    name: str
    scopes: list[str]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as ``brickyard token list`` shows it: everything but the secret."""

    id: int
    principal: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    fingerprint: str

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "live"
