"""Access lists, one way for every kind of collection (schema and ER): their bodies parsed,
and their entries as the stores read them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from shared.errors import BadRequest
from shared.text import is_storable

RoleT = TypeVar("RoleT")


@dataclass(frozen=True, slots=True)
class GrantRow:
    """One entry of a collection's access list, as its store reads it."""

    principal_id: int
    name: str
    role: str
    granted_at: datetime


def parse_grant_list(
    body: Any, parse_role: Callable[[Any], RoleT], max_grants: int
) -> dict[str, RoleT]:
    """``{"grants": [{"principal": "bob", "role": ...}, ...]}``: each principal once, with its
    role; the caller checks what its access lists must keep (an owner)."""
    entries = body.get("grants") if isinstance(body, dict) else None
    if not isinstance(entries, list) or len(entries) > max_grants:
        raise BadRequest(
            f'The body must be {{"grants": [{{"principal", "role"}}, ...]}} with at most '
            f"{max_grants} grants"
        )
    grants: dict[str, RoleT] = {}
    for index, entry in enumerate(entries):
        name = entry.get("principal") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 200 or not is_storable(name):
            raise BadRequest(f"grants[{index}].principal must be a principal name (1-200 chars)")
        if name in grants:
            raise BadRequest(f"Principal '{name}' is listed twice")
        grants[name] = parse_role(entry.get("role"))
    return grants
