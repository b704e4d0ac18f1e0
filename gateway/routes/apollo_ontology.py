"""Apollo ontology service: build a schema collection's ontology graph (jobs) and read it.

See docs/apollo-ontology.md. The domain is ``shared.ontology``; these handlers parse and answer.
"""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    apollo_family,
    apollo_response,
    principal,
    requires_scope,
    services,
    transaction_id,
)
from gateway.routes.apollo_er import collection as er_collection
from gateway.routes.apollo_er import header_collection
from gateway.routes.schema_common import collections, header, params, read_body
from shared.er.access import Role as ErRole
from shared.errors import BadRequest
from shared.ontology.service import (
    ENTITY_KIND,
    RELATIONSHIP_KIND,
    BuildRequest,
    Ontology,
    split_filter,
)
from shared.schemas.acl import Role
from shared.statuslog.query import batch_tracker

routes = web.RouteTableDef()
KINDS = {"entitytypes": ENTITY_KIND, "relationshiptypes": RELATIONSHIP_KIND}


def ontology(request: web.Request) -> Ontology:
    return Ontology(services(request).pool)


@routes.post("/apollo/ontology/{kind:entitytypes|relationshiptypes}")
@apollo_family
@requires_scope("apollo_write")
async def post_graph(request: web.Request) -> web.Response:
    name = header(request, "schemaCollection")
    if not name:
        raise BadRequest("The schemaCollection header is required")
    svc, who, kind = services(request), principal(request), request.match_info["kind"]
    row = await collections(request).writable(name, who.id, Role.editor)
    body = await read_body(request, ("application/json",)) if request.can_read_body else []
    if not isinstance(body, list | dict):
        raise BadRequest("The body must be a list of objects")
    posted = [body] if isinstance(body, dict) else body
    transaction = transaction_id(request)
    job_request = BuildRequest(
        schemaCollection=row.id, kind=kind, body=posted, transactionId=transaction
    )
    job = await svc.jobs.submit(KINDS[kind], who, job_request)
    status_url = f"{svc.settings.public_url}/async/get/{job.token}"
    data = {"token": job.token, "statusUrl": status_url,
            "tracker": batch_tracker(svc.settings.public_url, transaction)}  # fmt: skip
    message = f"Request {job.token} is processed and can be tracked by URL {status_url}"
    return apollo_response(
        request, data, status=202, message=message, headers={"Location": status_url}
    )


@routes.get("/apollo/ontologygraph/entityTypes/{entity_type}")
@apollo_family
@requires_scope("apollo_read")
async def of_entity_type(request: web.Request) -> web.Response:
    segment = params(request)["entity_type"]
    type_id, ends = split_filter(segment, request.query.get("$filter"))
    found = ontology(request)
    owner = await found.owner(type_id)
    return apollo_response(request, await found.of_entity_type(owner, type_id, ends), message="OK")


@routes.get("/apollo/ontologygraph/relationshipTypes/{relationship_type}")
@apollo_family
@requires_scope("apollo_read")
async def of_relationship_type(request: web.Request) -> web.Response:
    er = await er_collection(request, header_collection(request), ErRole.readonly)
    type_id = params(request)["relationship_type"]
    answer = await ontology(request).of_relationship_type(er.schema_collection_id, type_id)
    return apollo_response(request, answer, message="OK")
