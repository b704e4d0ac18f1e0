"""Where a Brickyard round trip's time goes, for ``make bench``: each submit-to-result trip
split at the moments the gateway side can see.

- submit: the job's row inserted and the job enqueued (with its wake message);
- worker: from then until the done announcement reaches this process (the wake, the lease,
  straight from the wake, the handler, the outcome write and the Redis clean-up);
- result: from the announcement until the waiter returns the job (its wake and the decoding of
  the row the announcement carries; a row not carried is read from PostgreSQL).

The announcement is timed by a subscription of this bench's own to the done channel, beside
the waiter's, so the product runs unchanged. A second series makes the same trips with the
principal's admission as the job's stage, as every HTTP route that starts a job does
(``admitted_*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from typing import Any

from shared.auth import Principal
from shared.jobs.channels import done_channel, done_tokens, listen_forever
from shared.jobs.service import Stage
from shared.services import Services
from shared.tenancy.admission import admitting
from tests.bench_jobs import NOOP
from tests.bench_support import brickyard_workers, isolated, scenario, while_alive

TRIPS = 150
WARM_UP_S = 2.0
PHASES = ("submit", "worker", "result")


@scenario("jobs: round trip split, where a Brickyard trip's time goes (2 worker processes)")
async def round_trip_split(services: Services, principal: Principal) -> dict[str, Any]:
    async with isolated(services.settings) as (isolated_services, bench_principal):
        jobs = isolated_services.jobs
        announced: dict[str, float] = {}
        subscribed = asyncio.Event()

        def heard(message: str) -> None:
            now = time.perf_counter()
            for token in done_tokens(message):
                announced.setdefault(token, now)

        listener = asyncio.create_task(
            listen_forever(
                isolated_services.redis,
                done_channel(isolated_services.settings.queue_name),
                heard,
                subscribed.set,
            )
        )
        try:
            await asyncio.wait_for(subscribed.wait(), timeout=10)
            async with brickyard_workers(isolated_services.settings, 2) as children:
                await while_alive(children, jobs.run_and_wait("selftest", bench_principal, NOOP))
                warm_until = time.monotonic() + WARM_UP_S
                while time.monotonic() < warm_until:
                    await jobs.run_and_wait("selftest", bench_principal, NOOP)
                splits = [
                    await _split_trip(
                        services=isolated_services, principal=bench_principal, announced=announced
                    )
                    for _ in range(TRIPS)
                ]
                # The same trips as the HTTP routes make them, with the principal's admission.
                admission = admitting(isolated_services.settings, bench_principal.id)
                admitted = [
                    await _split_trip(
                        services=isolated_services,
                        principal=bench_principal,
                        announced=announced,
                        stage=admission,
                    )
                    for _ in range(TRIPS)
                ]
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
    figures: dict[str, Any] = {"trips": len(splits)}
    for index, phase in enumerate(PHASES):
        figures[f"{phase}_p50_ms"] = round(statistics.median(s[index] for s in splits), 3)
    figures["total_p50_ms"] = round(statistics.median(sum(s) for s in splits), 3)
    figures["admitted_submit_p50_ms"] = round(statistics.median(s[0] for s in admitted), 3)
    figures["admitted_total_p50_ms"] = round(statistics.median(sum(s) for s in admitted), 3)
    return figures


async def _split_trip(
    services: Services,
    principal: Principal,
    announced: dict[str, float],
    stage: Stage | None = None,
) -> tuple[float, float, float]:
    began = time.perf_counter()
    # As run_and_wait submits: nobody hears of the job before its outcome.
    submitted = await services.jobs.submit("selftest", principal, NOOP, stage=stage, durable=False)
    queued = time.perf_counter()
    await services.jobs.wait(submitted.token)
    returned = time.perf_counter()
    # The waiter's subscription may hear the announcement a moment before this one's.
    heard = min(max(announced.pop(submitted.token, returned), queued), returned)
    return (
        (queued - began) * 1000,
        (heard - queued) * 1000,
        (returned - heard) * 1000,
    )
