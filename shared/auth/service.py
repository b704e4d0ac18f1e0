from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from shared.auth import store
from shared.auth.rows import TokenInfo
from shared.errors import BadRequest, Forbidden, NotFound, Unauthorized

TOKEN_PREFIX = "bky_"
SCOPES = frozenset({"apollo_read", "apollo_write", "apollo_admin", "view", "modify", "operator"})


@dataclass(frozen=True, slots=True)
class Principal:
    id: int
    name: str
    scopes: frozenset[str]

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"The access token lacks the '{scope}' scope this call requires")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ensure_principal(self, name: str) -> int:
        if not name or len(name) > 200:
            raise BadRequest("A principal name must be 1 to 200 characters")
        return await store.upsert_principal(self._pool, name)

    async def create_token(
        self, principal: str, scopes: list[str], expires_in_s: int | None = None
    ) -> str:
        token, _ = await self.create_token_with_id(principal, scopes, expires_in_s)
        return token

    async def create_token_with_id(
        self, principal: str, scopes: list[str], expires_in_s: int | None = None
    ) -> tuple[str, int]:
        """A new token and its id (the id names it in ``token list`` and ``revoke --id``)."""
        unknown = sorted(set(scopes) - SCOPES)
        if unknown or not scopes:
            raise BadRequest(
                f"Unknown or missing scopes {unknown}; known scopes: {', '.join(sorted(SCOPES))}"
            )
        if expires_in_s is not None and expires_in_s <= 0:
            raise BadRequest("expires-in must be a positive number of seconds")
        # The prefix names what the secret is (for secret scanners and people) and keeps it from
        # starting with '-', which a command line would take for an option.
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        principal_id = await self.ensure_principal(principal)
        expiry = timedelta(seconds=expires_in_s) if expires_in_s is not None else None
        token_id = await store.insert_token(
            self._pool, hash_token(token), principal_id, sorted(set(scopes)), expiry
        )
        return token, token_id

    async def revoke_token(self, token: str) -> None:
        if not await store.revoke_token(self._pool, hash_token(token)):
            raise NotFound("No live token matches")

    async def revoke_token_by_id(self, token_id: int) -> None:
        if not await store.revoke_token_by_id(self._pool, token_id):
            raise NotFound(f"No live token has id {token_id}")

    async def list_tokens(
        self, principal: str | None = None, *, include_ended: bool = False
    ) -> list[TokenInfo]:
        return await store.list_tokens(self._pool, principal, include_ended)

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized("Missing bearer token: send 'Authorization: Bearer <token>'")
        row = await store.live_token(self._pool, hash_token(token))
        if row is None:
            raise Unauthorized("The access token is unknown, expired or revoked")
        return Principal(row.id, row.name, frozenset(row.scopes))

    async def principal_id(self, name: str) -> int | None:
        return await store.principal_id(self._pool, name)

    async def principal_name(self, principal_id: int) -> str | None:
        return await store.principal_name(self._pool, principal_id)
