"""The doc's ``sys*`` system data, for collections and type schema versions.

The pages name the keys (createSchema, getSystemdata, apolloCreateSchemaCollection); Brickyard's
own fields follow them in the same object. ``sysActive`` and ``sysIsMaster`` are JSON booleans:
getSystemdata prints them as strings ("true"), the collection pages as booleans, and a string
"false" would be truthy in a dynamic client while typed clients accept either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.schemas.render import SYS_KEYS
from shared.schemas.rows import TypeSchemaRow
from shared.text import iso


def sys_timestamp(moment: datetime) -> str:
    """The doc's form: UTC, milliseconds, no zone suffix (2018-10-08T05:50:13.573)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a write, as system data records it: the principal, and the request's
    correlation id (the ``x-correlation-id`` header, else its transaction id). Brickyard tokens
    belong to a principal, not to a separate client, so ``sysClientId`` is the principal too."""

    principal_id: int
    name: str
    correlation_id: str

    def sys_data(self, moment: datetime, active: bool) -> dict[str, Any]:
        return {
            "sysTimestamp": sys_timestamp(moment),
            "sysCorrelationId": self.correlation_id,
            "sysRequestorId": self.name,
            "sysClientId": self.name,
            "sysActive": active,
        }


def type_sys_data(row: TypeSchemaRow) -> dict[str, Any]:
    """One version's system data: the doc's keys first, then Brickyard's."""
    requestor = row.created_by_name
    return {
        "sysCorrelationId": row.correlation_id,
        "sysClientId": requestor,
        "sysSchemaCollectionId": row.collection_id,
        "sysTimestamp": sys_timestamp(row.state_changed_at or row.created_at),
        "sysSchemaVersion": row.version,
        "sysState": row.state,
        "sysActive": row.active,
        "sysRequestorId": requestor,
        "sysIsMaster": row.is_current,
        SYS_KEYS[row.schema_type]: row.type_id,
        "typeId": row.type_id,
        "version": row.version,
        "schemaCollectionId": row.collection_id,
        "schemaType": row.schema_type,
        "active": row.active,
        "isCurrent": row.is_current,
        "release": row.release_version,
        "tags": row.tags,
        "metadata": row.metadata,
        "contentSha256": row.content_sha256,
        "createdBy": requestor,
        "createdOn": iso(row.created_at),
    }


def item_json(row: TypeSchemaRow, include_system_data: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"schema": row.schema}
    if include_system_data:
        item["sysData"] = type_sys_data(row)
    return item
