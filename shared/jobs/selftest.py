"""A diagnostic job: proves the whole path (gateway, queue, worker, database) works end to end.

It sleeps in small steps reporting progress, then echoes its request; ``fail`` makes it fail
with that message, so operators and tests can see every job state on demand.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, NotRequired, TypedDict

from shared.errors import BadRequest
from shared.jobs.runner import JobContext

KIND = "selftest"
MAX_SLEEP_S = 60.0


class SelftestRequest(TypedDict):
    """What the self-test job echoes, after how long, and whether it then fails."""

    message: NotRequired[str]
    sleepSeconds: NotRequired[Annotated[float, {"minimum": 0, "maximum": MAX_SLEEP_S}]]
    fail: NotRequired[str | None]


def parse_request(body: Any) -> SelftestRequest:
    if not isinstance(body, dict):
        raise BadRequest("The self-test request must be a JSON object")
    sleep = body.get("sleepSeconds", 0)
    if (
        not isinstance(sleep, int | float)
        or isinstance(sleep, bool)
        or not 0 <= sleep <= MAX_SLEEP_S
    ):
        raise BadRequest(f"sleepSeconds must be a number from 0 to {MAX_SLEEP_S:g}")
    fail = body.get("fail")
    if fail is not None and not isinstance(fail, str):
        raise BadRequest("fail, when given, must be the failure message (a string)")
    return {"sleepSeconds": sleep, "message": str(body.get("message", "")), "fail": fail}


async def run_selftest(job: JobContext, request: SelftestRequest) -> dict[str, Any]:
    # Progress every 0.1 s of sleep; a job that does not sleep is a no-op and reports none.
    steps = int(request["sleepSeconds"] * 10)
    if request["sleepSeconds"] and not steps:
        steps = 1
    for step in range(steps):
        await job.progress(step, steps, "sleeping")
        await asyncio.sleep(request["sleepSeconds"] / steps)
    if request.get("fail"):
        raise BadRequest(request["fail"])
    return {"echo": request["message"], "attempts": job.job.attempts}
