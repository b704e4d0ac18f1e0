"""Bearer tokens: random, stored only as a SHA-256 hash, with a principal, scopes and an expiry."""

from shared.auth.service import SCOPES, AuthService, Principal

__all__ = ["SCOPES", "AuthService", "Principal"]
