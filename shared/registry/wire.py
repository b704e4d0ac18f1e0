"""The registry's Synapse wire shapes, built from rows, and its opaque page tokens.

Synapse sends ids (organization, schema, version, creator) as strings and ACL principal ids
as numbers; dates are ISO-8601 UTC with milliseconds and ``Z``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from shared.errors import BadRequest
from shared.registry.rows import AclEntry, Organization, Schema, VersionInfo
from shared.text import iso

PAGE_SIZE = 50
MAX_BIGINT = 2**63 - 1  # ids are bigint: a larger number names nothing and must not reach SQL
SCHEMA_PACKAGE = "org.sagebionetworks.repo.model.schema"
CREATE_SCHEMA_REQUEST = f"{SCHEMA_PACKAGE}.CreateSchemaRequest"
CREATE_SCHEMA_RESPONSE = f"{SCHEMA_PACKAGE}.CreateSchemaResponse"
VALIDATION_SCHEMA_REQUEST = f"{SCHEMA_PACKAGE}.GetValidationSchemaRequest"
VALIDATION_SCHEMA_RESPONSE = f"{SCHEMA_PACKAGE}.GetValidationSchemaResponse"
REGISTERED_PATH = "/repo/v1/schema/type/registered/"


def absolute_id(public_url: str, relative: str) -> str:
    return f"{public_url}{REGISTERED_PATH}{relative}"


def organization_json(row: Organization) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "createdOn": iso(row.created_at),
        "createdBy": str(row.created_by),
    }


def acl_json(organization: Organization, entries: Sequence[AclEntry]) -> dict[str, Any]:
    return {
        "id": str(organization.id),
        "creationDate": iso(organization.created_at),
        "modifiedOn": iso(organization.acl_changed_at),
        "etag": str(organization.acl_etag),
        "resourceAccess": [
            {"principalId": e.principal_id, "accessType": sorted(e.access_types)} for e in entries
        ],
    }


def schema_info_json(row: Schema) -> dict[str, Any]:
    return {
        "organizationId": str(row.organization_id),
        "organizationName": row.organization_name,
        "schemaId": str(row.id),
        "schemaName": row.name,
        "createdOn": iso(row.created_at),
        "createdBy": str(row.created_by),
    }


def version_relative_id(row: VersionInfo) -> str:
    base = f"{row.organization_name}-{row.schema_name}"
    return f"{base}-{row.semantic_version}" if row.semantic_version else base


def version_info_json(row: VersionInfo) -> dict[str, Any]:
    info = {
        "organizationId": str(row.organization_id),
        "organizationName": row.organization_name,
        "schemaId": str(row.schema_id),
        "schemaName": row.schema_name,
        "versionId": str(row.version_id),
        "$id": version_relative_id(row),
        "jsonSHA256Hex": row.sha256_hex,
        "createdOn": iso(row.created_at),
        "createdBy": str(row.created_by),
    }
    if row.semantic_version:
        info["semanticVersion"] = row.semantic_version
    return info


@dataclass(frozen=True, slots=True)
class PageRequest:
    after_id: int  # keyset: rows with a larger id come next
    limit: int = PAGE_SIZE


def page_request(body: dict[str, Any]) -> PageRequest:
    token = body.get("nextPageToken")
    if token is None:
        return PageRequest(0)
    try:
        kind, _, value = base64.urlsafe_b64decode(str(token).encode()).decode().partition(":")
        if kind != "after" or not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise ValueError(token)
        if int(value) > MAX_BIGINT:
            raise ValueError(token)
        return PageRequest(int(value))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest(
            f"Invalid nextPageToken '{token}'; pass back the one a list returned"
        ) from exc


class Keyed(Protocol):
    @property
    def id(self) -> int: ...


KeyedRow = TypeVar("KeyedRow", bound=Keyed)


def page_response(
    rows: Sequence[KeyedRow],
    request: PageRequest,
    to_json: Callable[[KeyedRow], dict[str, Any]],
) -> dict[str, Any]:
    """``rows`` were fetched with one extra row, whose presence says another page exists."""
    page = list(rows[: request.limit])
    response: dict[str, Any] = {"page": [to_json(row) for row in page]}
    if len(rows) > request.limit:
        last = page[-1].id
        response["nextPageToken"] = base64.urlsafe_b64encode(f"after:{last}".encode()).decode()
    return response


def require_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"The {what} must be a JSON object")
    return body


def require_string(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{field}' is required and must be a non-empty string")
    return require_storable(value.strip(), field)


def require_storable(value: str, what: str) -> str:
    """PostgreSQL text cannot hold NUL: refuse it here rather than fail in SQL."""
    if "\x00" in value:
        raise BadRequest(f"'{what}' must not contain the NUL character")
    return value
