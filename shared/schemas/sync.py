"""The sync job: bring a collection's schemas of one type to a release of its line.

New types are inserted, changed ones get a new version, unchanged ones are untouched, types that
left the release are marked inactive, invalid entries are reported as failed. The whole write
happens in one transaction that holds the collection's advisory lock and records the job's
result, so parallel syncs of a collection are serialised and a sync interrupted by a crash
leaves nothing behind: its re-run ends in the same state as an uninterrupted one. A second
run of the same job (a lease taken over) is rolled back by the job's fenced completion.

Which release: the request's ``version`` (``"latest"``: the newest), else the collection's
pinned release, else the newest of its line. A ``version`` in the request also moves the pin.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from shared.errors import BadRequest, NotFound, PreconditionFailed
from shared.jobs.runner import JobContext
from shared.releases.catalog import LATEST, ReleaseCatalog
from shared.schemas.collections import SchemaCollections
from shared.schemas.render import PLAIN_TYPES, SCHEMA_TYPES, render_release
from shared.schemas.store import collections as collections_store
from shared.schemas.versions import write_versions
from shared.settings import Settings

KIND = "apollo_schema_sync"


class SyncRequest(TypedDict):
    """The sync job's request, as the gateway stores it."""

    schemaType: str
    schemaCollectionId: str  # the collection's id (the gateway resolved its name)
    transactionId: str
    # A release version or "latest"; given, it also moves the collection's pin.
    version: NotRequired[str]


def cache_dir(settings: Settings) -> Any:
    return settings.data_dir / "release-cache"


def parse_request(body: Any, transaction_id: str) -> SyncRequest:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object")
    missing = [k for k in ("schemaType", "schemaCollectionId") if not body.get(k)]
    if missing:
        raise BadRequest(f"Missing mandatory field(s): {', '.join(missing)}")
    if body["schemaType"] in PLAIN_TYPES:
        # Documented types, but no release generates them: "no schemas present for sync".
        raise PreconditionFailed(f"No release holds {body['schemaType']} to sync")
    if body["schemaType"] not in SCHEMA_TYPES:
        raise BadRequest(f"'schemaType' must be one of {', '.join(SCHEMA_TYPES)}")
    if not isinstance(body["schemaCollectionId"], str):
        raise BadRequest("'schemaCollectionId' must be a string")
    version = body.get("version")
    if version is not None and (not isinstance(version, str) or not version):
        raise BadRequest("'version', when given, must be a release version or 'latest'")
    schema_type, collection_id = body["schemaType"], body["schemaCollectionId"]
    if version is None:
        return SyncRequest(
            schemaType=schema_type, schemaCollectionId=collection_id, transactionId=transaction_id
        )
    return SyncRequest(
        schemaType=schema_type,
        schemaCollectionId=collection_id,
        version=version,
        transactionId=transaction_id,
    )


async def prepare(collections: SchemaCollections, body: Any, transaction_id: str) -> SyncRequest:
    """Check what can be checked before queueing (400, 404): the job's request."""
    request = parse_request(body, transaction_id)
    collection = await collections.get(request["schemaCollectionId"])
    await collections.catalog.resolve(
        collection.release_line, request.get("version") or collection.pinned_version
    )
    request["schemaCollectionId"] = collection.id
    return request


def parse_job_request(stored: Any) -> SyncRequest:
    """The request ``prepare`` made, read back from the job's row."""
    transaction_id = stored.get("transactionId") if isinstance(stored, dict) else None
    if not isinstance(transaction_id, str):
        raise BadRequest("'transactionId' must be a string")
    return parse_request(stored, transaction_id)


def envelope(request: SyncRequest, response: dict[str, Any]) -> dict[str, Any]:
    """The seed's answer; stored as the job's result, so /async/get gives the same body."""
    entry = {"collId": request["schemaCollectionId"], "response": response}
    return {
        "status": {"message": "Operation completed", "code": "200"},
        "transactionId": request["transactionId"],
        "paging": None,
        "data": {request["schemaType"]: [entry]},
    }


async def run_sync(job: JobContext, request: SyncRequest) -> dict[str, Any]:
    schema_type, collection_id = request["schemaType"], request["schemaCollectionId"]
    catalog = ReleaseCatalog(job.pool, cache_dir(job.settings))
    collections = SchemaCollections(job.pool, catalog)
    collection = await collections.get(collection_id)
    line = collection.release_line
    version = await catalog.resolve(line, request.get("version") or collection.pinned_version)
    await job.progress(0, 2, f"Loading release {line} {version}")
    release = await catalog.load(line, version)
    rendered = render_release(collection.namespace, schema_type, release)
    if not rendered:
        raise PreconditionFailed(f"Release {line} {version} has no {schema_type} to sync")
    await job.progress(1, 2, f"Writing {len(rendered)} {schema_type}")
    async with job.pool.acquire() as conn, conn.transaction():
        await collections_store.lock(conn, collection.id)
        locked = await collections_store.get(conn, collection.id)
        if locked is None:
            raise NotFound(f"Schema collection '{collection_id}' was deleted")
        outcome = await write_versions(
            conn,
            collection.id,
            schema_type,
            rendered,
            principal_id=job.principal_id,
            release_version=version,
            retire_missing=True,
            correlation_id=request["transactionId"],
        )
        moves_pin = "version" in request
        new_pin = None if request.get("version") == LATEST else request.get("version")
        await collections_store.record_sync(
            conn, collection.id, version, schema_type, moves_pin, new_pin
        )
        response = {
            **outcome.as_json(),
            "inactivated": outcome.inactivated,
            "release": {
                "releaseLine": line,
                "version": version,
                "previousVersion": locked.synced_versions.get(schema_type),
            },
        }
        result = envelope(request, response)
        await job.complete_in(conn, result)
    return result
