"""Liveness, readiness, the generic job endpoint and the diagnostic self-test job."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    encoded_json_response,
    job_token,
    json_response,
    principal,
    public,
    query_flag,
    read_json,
    services,
    submit_job,
)
from shared.health import readiness
from shared.jobs import JobRecord, JobState
from shared.jobs import selftest as selftest_job

routes = web.RouteTableDef()


def job_response(job: JobRecord) -> web.Response:
    """202 with the status while it runs, 200 with the result, the failure's own status."""
    if job.state is JobState.PROCESSING:
        return json_response(job.status_json(), status=202)
    if job.state is JobState.COMPLETE:
        return encoded_json_response(job.result_json or "null")
    return json_response(
        {**job.status_json(), "reason": job.error_message}, job.error_status or 500
    )


@routes.get("/healthz")
@public
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@routes.get("/readyz")
@public
async def readyz(request: web.Request) -> web.Response:
    checks = await readiness(services(request))
    ready = all(check["ok"] for check in checks.values())
    return json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


@routes.get("/async/get/{token}")
async def get_job(request: web.Request) -> web.Response:
    job = await services(request).jobs.get_for(job_token(request), principal(request))
    return job_response(job)


@routes.post("/selftest/async/start")
async def start_selftest(request: web.Request) -> web.Response:
    job_request = selftest_job.parse_request(await read_json(request))
    mark = services(request).jobs.mark()
    job = await submit_job(request, selftest_job.KIND, job_request)
    if query_flag(request, "wait"):
        seen = None if job.done else mark
        return job_response(await services(request).jobs.wait(job.token, unfinished_at=seen))
    return json_response({"token": job.token}, status=201)


@routes.post("/async/cancel/{token}")
async def cancel_job(request: web.Request) -> web.Response:
    """202 while the job stops (``jobCanceling``), 200 once it is CANCELLED, 409 if it ended."""
    job = await services(request).jobs.cancel(job_token(request), principal(request))
    return json_response(job.status_json(), status=200 if job.done else 202)
