"""The caller's own jobs, newest first: what the dashboard's job list shows."""

from __future__ import annotations

from aiohttp import web

from gateway.http import json_response, principal, services
from shared.errors import BadRequest
from shared.jobs import JobState
from shared.jobs import store as jobs_store

routes = web.RouteTableDef()
MAX_LIMIT = 500


def list_filters(request: web.Request) -> tuple[str | None, str | None, int]:
    """(state, kind, limit) from the query: an unknown state or a bad limit is a 400."""
    state = request.query.get("state") or None
    if state is not None and state.upper() not in JobState.__members__:
        raise BadRequest(f"state must be one of {', '.join(JobState.__members__)}")
    limit_text = request.query.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return (state.upper() if state else None), request.query.get("kind") or None, int(limit_text)


@routes.get("/async/jobs")
async def list_jobs(request: web.Request) -> web.Response:
    """``{jobs: [AsynchronousJobStatus...]}``, newest first; ``state``, ``kind``, ``limit``."""
    state, kind, limit = list_filters(request)
    jobs = await jobs_store.list_for_principal(
        services(request).pool, principal(request).id, state, kind, limit
    )
    return json_response({"jobs": [job.status_json() for job in jobs]})
