"""Text from clients that Postgres cannot store (NUL, unpaired surrogates) is a 400, not a 500."""

from __future__ import annotations

from shared.errors import BadRequest


def is_storable(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(value: str, name: str) -> str:
    if not is_storable(value):
        raise BadRequest(
            f"{name} holds a character that cannot be stored (NUL or a lone surrogate)"
        )
    return value
