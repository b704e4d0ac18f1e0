"""Family 1: the Synapse-compatible JSON schema registry under ``/repo/v1``.

Paths, methods, bodies and status codes are those of Synapse's JsonSchemaController, so
Synapse's own clients work unchanged. Reads need the ``view`` scope, writes ``modify``.
"""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    job_token,
    json_response,
    principal,
    read_json,
    requires_scope,
    services,
    submit_job,
)
from shared.errors import NotFound, error_for_status
from shared.jobs import JobState
from shared.registry import (
    CREATE_SCHEMA_KIND,
    VALIDATION_SCHEMA_KIND,
    OrganizationService,
    SchemaService,
    wire,
)

routes = web.RouteTableDef()
BASE = "/repo/v1"


def organizations(request: web.Request) -> OrganizationService:
    return OrganizationService(services(request).pool)


def schemas(request: web.Request) -> SchemaService:
    found = services(request)
    return SchemaService(found.pool, found.settings.public_url)


async def start_job(request: web.Request, kind: str, request_type: str) -> web.Response:
    """Record and enqueue at once; the worker does all the other validation."""
    # Only the body's shape is checked here: Synapse refuses a non-object at once, too.
    body = wire.require_object(await read_json(request), request_type)
    job = await submit_job(request, kind, body)
    return json_response({"token": job.token}, status=201)


async def job_outcome(request: web.Request, kind: str) -> web.Response:
    """202 + AsynchronousJobStatus while running, 201 + the response, or the job's error."""
    token = job_token(request)
    job = await services(request).jobs.get_for(token, principal(request))
    if job.kind != kind:
        raise NotFound(f"No {kind} job has the token '{token}'")
    if job.state is JobState.PROCESSING:
        return json_response(job.status_json(), status=202)
    if job.state is not JobState.COMPLETE:  # FAILED, or CANCELLED by its starter (409)
        raise error_for_status(job.error_status or 500, job.error_message or "The job failed")
    return json_response(job.result, status=201)


@routes.get(f"{BASE}/userProfile")
@requires_scope("view")
async def user_profile(request: web.Request) -> web.Response:
    caller = principal(request)
    profile = {"ownerId": str(caller.id), "userName": caller.name, "displayName": caller.name}
    return json_response(profile)


@routes.post(f"{BASE}/schema/organization")
@requires_scope("modify")
async def create_organization(request: web.Request) -> web.Response:
    body = await read_json(request)
    return json_response(await organizations(request).create(principal(request), body), 201)


@routes.get(f"{BASE}/schema/organization")
@requires_scope("view")
async def get_organization(request: web.Request) -> web.Response:
    return json_response(await organizations(request).get_by_name(request.query.get("name")))


@routes.post(f"{BASE}/schema/organization/list")
@requires_scope("view")
async def list_organizations(request: web.Request) -> web.Response:
    return json_response(await organizations(request).list(await read_json(request)))


@routes.delete(f"{BASE}/schema/organization/{{id}}")
@requires_scope("modify")
async def delete_organization(request: web.Request) -> web.Response:
    await organizations(request).delete(principal(request), request.match_info["id"])
    return web.Response(status=200)  # Synapse answers 200 with an empty body


@routes.get(f"{BASE}/schema/organization/{{id}}/acl")
@requires_scope("view")
async def get_organization_acl(request: web.Request) -> web.Response:
    acl = await organizations(request).get_acl(principal(request), request.match_info["id"])
    return json_response(acl)


@routes.put(f"{BASE}/schema/organization/{{id}}/acl")
@requires_scope("modify")
async def put_organization_acl(request: web.Request) -> web.Response:
    body = await read_json(request)
    acl = await organizations(request).put_acl(principal(request), request.match_info["id"], body)
    return json_response(acl)


@routes.post(f"{BASE}/schema/type/create/async/start")
@requires_scope("modify")
async def start_create_schema(request: web.Request) -> web.Response:
    return await start_job(request, CREATE_SCHEMA_KIND, "CreateSchemaRequest")


@routes.get(f"{BASE}/schema/type/create/async/get/{{token}}")
@requires_scope("view")
async def get_create_schema(request: web.Request) -> web.Response:
    return await job_outcome(request, CREATE_SCHEMA_KIND)


# {id:.+}: an absolute $id (<base>/schema/type/registered/<id>) is accepted too.
@routes.get(f"{BASE}/schema/type/registered/{{id:.+}}")
@requires_scope("view")
async def get_registered_schema(request: web.Request) -> web.Response:
    return json_response(await schemas(request).get(request.match_info["id"]))


@routes.delete(f"{BASE}/schema/type/registered/{{id:.+}}")
@requires_scope("modify")
async def delete_registered_schema(request: web.Request) -> web.Response:
    await schemas(request).delete(principal(request), request.match_info["id"])
    return web.Response(status=204)


@routes.post(f"{BASE}/schema/list")
@requires_scope("view")
async def list_schemas(request: web.Request) -> web.Response:
    return json_response(await schemas(request).list_schemas(await read_json(request)))


@routes.post(f"{BASE}/schema/version/list")
@requires_scope("view")
async def list_schema_versions(request: web.Request) -> web.Response:
    return json_response(await schemas(request).list_versions(await read_json(request)))


@routes.post(f"{BASE}/schema/type/validation/async/start")
@requires_scope("view")
async def start_validation_schema(request: web.Request) -> web.Response:
    return await start_job(request, VALIDATION_SCHEMA_KIND, "GetValidationSchemaRequest")


@routes.get(f"{BASE}/schema/type/validation/async/get/{{token}}")
@requires_scope("view")
async def get_validation_schema(request: web.Request) -> web.Response:
    return await job_outcome(request, VALIDATION_SCHEMA_KIND)
