"""SQL for principals and access tokens, with thin typed functions over it.

Tokens are found by the SHA-256 of the secret: the secret itself is never stored.
"""

from __future__ import annotations

from datetime import timedelta

from shared.auth.rows import LiveToken, TokenInfo
from shared.db import Executor, fetch_as, fetchrow_as

# The no-op update makes RETURNING give the id of a principal that already exists.
UPSERT_PRINCIPAL = """
INSERT INTO principals (name) VALUES ($1)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id
"""
# A NULL interval leaves expires_at NULL: a token that never expires.
INSERT_TOKEN = """
INSERT INTO access_tokens (token_sha256, principal_id, scopes, expires_at)
VALUES ($1, $2, $3, now() + $4::interval)
RETURNING id
"""
REVOKE_TOKEN = """
UPDATE access_tokens SET revoked_at = now()
WHERE token_sha256 = $1 AND revoked_at IS NULL
"""
REVOKE_TOKEN_BY_ID = """
UPDATE access_tokens SET revoked_at = now()
WHERE id = $1 AND revoked_at IS NULL
"""
# What an operator needs to tell tokens apart, never the hash itself: its first 8 hex digits
# are enough to match a token one holds (`brickyard token list` explains how).
LIST_TOKENS = """
SELECT t.id, p.name AS principal, t.scopes, t.created_at, t.expires_at, t.revoked_at,
       left(t.token_sha256, 8) AS fingerprint
FROM access_tokens t JOIN principals p ON p.id = t.principal_id
WHERE ($1::text IS NULL OR p.name = $1)
  AND ($2 OR (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())))
ORDER BY t.id
"""
FIND_LIVE_TOKEN = """
SELECT p.id, p.name, t.scopes
FROM access_tokens t JOIN principals p ON p.id = t.principal_id
WHERE t.token_sha256 = $1
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
"""
# Access lists may name principals that never signed in yet: they are created here by name.
ENSURE_PRINCIPALS = """
INSERT INTO principals (name) SELECT unnest($1::text[])
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id, name
"""
FIND_PRINCIPAL_BY_NAME = "SELECT id, name FROM principals WHERE name = $1"
FIND_PRINCIPAL_BY_ID = "SELECT id, name FROM principals WHERE id = $1"


async def upsert_principal(db: Executor, name: str) -> int:
    principal_id: int = await db.fetchval(UPSERT_PRINCIPAL, name)
    return principal_id


async def ensure_principals(db: Executor, names: list[str]) -> dict[str, int]:
    """The id of each named principal, created where it is new."""
    return {row["name"]: row["id"] for row in await db.fetch(ENSURE_PRINCIPALS, names)}


async def insert_token(
    db: Executor,
    token_sha256: str,
    principal_id: int,
    scopes: list[str],
    expires_in: timedelta | None,
) -> int:
    """The new token's id."""
    token_id: int = await db.fetchval(INSERT_TOKEN, token_sha256, principal_id, scopes, expires_in)
    return token_id


async def revoke_token(db: Executor, token_sha256: str) -> bool:
    """False when no live token has this hash."""
    return bool(await db.execute(REVOKE_TOKEN, token_sha256) != "UPDATE 0")


async def revoke_token_by_id(db: Executor, token_id: int) -> bool:
    """False when no live token has this id."""
    return bool(await db.execute(REVOKE_TOKEN_BY_ID, token_id) != "UPDATE 0")


async def list_tokens(db: Executor, principal: str | None, include_ended: bool) -> list[TokenInfo]:
    return await fetch_as(db, TokenInfo, LIST_TOKENS, principal, include_ended)


async def live_token(db: Executor, token_sha256: str) -> LiveToken | None:
    """The token's principal and scopes, if it is live."""
    return await fetchrow_as(db, LiveToken, FIND_LIVE_TOKEN, token_sha256)


async def principal_id(db: Executor, name: str) -> int | None:
    row = await db.fetchrow(FIND_PRINCIPAL_BY_NAME, name)
    return row["id"] if row else None


async def principal_name(db: Executor, principal_id: int) -> str | None:
    row = await db.fetchrow(FIND_PRINCIPAL_BY_ID, principal_id)
    return row["name"] if row else None
