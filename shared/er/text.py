"""Text from clients that Postgres cannot store (NUL, unpaired surrogates) is a 400, not a 500."""

from __future__ import annotations

from typing import Any

from shared.errors import BadRequest


def is_storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def holds_unstorable_text(value: Any) -> bool:
    """Whether any string in a JSON value (keys included) is one Postgres would refuse."""
    if isinstance(value, str):
        return not is_storable(value)
    if isinstance(value, dict):
        return any(holds_unstorable_text(k) or holds_unstorable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_unstorable_text(v) for v in value)
    return False


def storable(value: str, name: str) -> str:
    if not is_storable(value):
        raise BadRequest(
            f"{name} holds a character that cannot be stored (NUL or a lone surrogate)"
        )
    return value
