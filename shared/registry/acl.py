"""Organization ACLs: access types, parsing a submitted AccessControlList, permission checks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.db import Executor
from shared.errors import BadRequest, Forbidden
from shared.registry import store
from shared.registry.rows import Named
from shared.registry.store import AUTHENTICATED_USERS_GROUP, PUBLIC_GROUP
from shared.registry.wire import MAX_BIGINT


class Access(StrEnum):
    READ = "READ"
    CREATE = "CREATE"
    CHANGE_PERMISSIONS = "CHANGE_PERMISSIONS"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


CREATOR_ACCESS = sorted(access.value for access in Access)
GROUP_PRINCIPALS = frozenset({AUTHENTICATED_USERS_GROUP, PUBLIC_GROUP})


@dataclass(frozen=True, slots=True)
class AclUpdate:
    etag: str
    entries: list[tuple[int, list[str]]]

    def grants(self, principal_id: int, access: Access) -> bool:
        holders = {principal_id, *GROUP_PRINCIPALS}
        return any(p in holders and access.value in types for p, types in self.entries)


def _principal_id(value: Any, index: int) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_BIGINT:
        raise BadRequest(f"resourceAccess[{index}].principalId must be a positive integer")
    return value


def _access_types(value: Any, index: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"resourceAccess[{index}].accessType must be a list of strings")
    unknown = sorted(set(value) - set(CREATOR_ACCESS))
    if unknown:
        raise BadRequest(
            f"resourceAccess[{index}].accessType has unknown access types {unknown}; "
            f"known: {', '.join(CREATOR_ACCESS)}"
        )
    return sorted(set(value))


def parse_acl(body: Any) -> AclUpdate:
    if not isinstance(body, dict):
        raise BadRequest("The AccessControlList must be a JSON object")
    etag = body.get("etag")
    if not isinstance(etag, str) or not etag:
        raise BadRequest("'etag' is required: send the etag of the ACL you read")
    resource_access = body.get("resourceAccess")
    if not isinstance(resource_access, list):
        raise BadRequest("'resourceAccess' is required and must be a list")
    entries: dict[int, list[str]] = {}
    for index, item in enumerate(resource_access):
        if not isinstance(item, dict):
            raise BadRequest(f"resourceAccess[{index}] must be an object")
        principal_id = _principal_id(item.get("principalId"), index)
        if principal_id in entries:
            raise BadRequest(f"principalId {principal_id} appears more than once in resourceAccess")
        entries[principal_id] = _access_types(item.get("accessType"), index)
    return AclUpdate(etag, sorted(entries.items()))


async def require_known_principals(db: Executor, update: AclUpdate) -> None:
    wanted = {p for p, _ in update.entries} - GROUP_PRINCIPALS
    unknown = sorted(wanted - await store.known_principals(db, sorted(wanted)))
    if unknown:
        raise BadRequest(f"resourceAccess names unknown principals: {unknown}")


async def require_access(
    db: Executor, organization: Named, principal_id: int, access: Access
) -> None:
    if not await store.has_access(db, organization.id, principal_id, access.value):
        raise Forbidden(
            f"You lack {access.value} permission on the organization '{organization.name}'"
        )
