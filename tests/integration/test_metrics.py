"""GET /metrics: cluster-wide figures, right whichever process counted them."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.keys import SERVICES
from shared.observability.exposition import render
from shared.observability.status import ClusterStatus
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, post_items, two_collections
from tests.observability_helpers import scrape, total, value
from tests.processes import start, wait_for

JobRunner = Callable[[], Awaitable[None]]


async def start_selftests(client: TestClient, token: str, count: int, **body: object) -> list[str]:
    tokens = []
    for _ in range(count):
        response = await client.post("/selftest/async/start", json=body, headers=bearer(token))
        assert response.status == 201
        tokens.append((await response.json())["token"])
    return tokens


async def test_metrics_need_no_token_and_say_which_dependencies_answered(
    client: TestClient,
) -> None:
    samples = await scrape(client)
    assert value(samples, "brickyard_dependency_up", dependency="PostgreSQL") == 1
    assert value(samples, "brickyard_dependency_up", dependency="Redis") == 1
    assert value(samples, "brickyard_workers_live") == 0


async def test_queue_depth_and_jobs_by_kind_and_state(
    client: TestClient, make_token: TokenFactory, run_jobs: JobRunner
) -> None:
    token = await make_token("alice", "view")
    await start_selftests(client, token, 3)
    await start_selftests(client, token, 1, fail="on purpose")
    samples = await scrape(client)
    assert value(samples, "brickyard_queue_depth") == 4
    assert value(samples, "brickyard_jobs", kind="selftest", state="PROCESSING") == 4
    waited = value(samples, "brickyard_queue_oldest_waiting_seconds", kind="selftest")
    assert waited is not None and waited > 0
    assert total(samples, "brickyard_build_info") == 1

    await run_jobs()
    samples = await scrape(client)
    assert value(samples, "brickyard_queue_depth") == 0
    assert value(samples, "brickyard_queue_oldest_waiting_seconds", kind="selftest") == 0
    outcomes = "brickyard_job_outcomes_total"
    assert value(samples, outcomes, kind="selftest", outcome="COMPLETE") == 3
    assert value(samples, outcomes, kind="selftest", outcome="FAILED") == 1
    assert total(samples, "brickyard_job_retries_total") == 0
    assert value(samples, "brickyard_jobs", kind="selftest", state="COMPLETE") == 3
    assert value(samples, "brickyard_jobs", kind="selftest", state="FAILED") == 1
    assert value(samples, "brickyard_jobs", kind="selftest", state="PROCESSING") is None
    duration = "brickyard_job_duration_seconds_count"
    assert value(samples, duration, kind="selftest", state="COMPLETE") == 3
    assert value(samples, duration, kind="selftest", state="FAILED") == 1
    inf_bucket = value(
        samples,
        "brickyard_job_duration_seconds_bucket",
        kind="selftest",
        state="COMPLETE",
        le="+Inf",
    )
    assert inf_bucket == 3


async def test_request_durations_are_labelled_by_route_not_raw_path(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view")
    for _ in range(2):
        response = await client.get("/async/get/" + "0" * 32, headers=bearer(token))
        assert response.status == 404
    assert (await client.get("/no/such/path")).status == 404
    samples = await scrape(client)
    count = "brickyard_http_request_duration_seconds_count"
    labels = {"method": "GET", "route": "/async/get/{token}", "status": "404"}
    assert value(samples, count, **labels) == 2
    assert value(samples, count, method="GET", route="unmatched", status="404") == 1
    assert not [key for key in samples if "0" * 32 in str(key)]


async def test_several_worker_processes_add_up_and_are_live(
    settings: Settings, client: TestClient, make_token: TokenFactory
) -> None:
    """Two real worker processes run the jobs; the gateway's scrape counts all of them."""
    token = await make_token("alice", "view")
    workers = [start(settings, "worker") for _ in range(2)]
    try:

        async def both_live() -> bool:
            return value(await scrape(client), "brickyard_workers_live") == 2

        await wait_for(both_live, timeout_s=60)
        samples = await scrape(client)
        assert value(samples, "brickyard_worker_slots") == 2 * settings.worker_max_jobs
        await start_selftests(client, token, 20, sleepSeconds=0.2)

        async def all_counted() -> bool:
            samples = await scrape(client)
            return total(samples, "brickyard_job_duration_seconds_count", kind="selftest") == 20

        await wait_for(all_counted, timeout_s=60)
        samples = await scrape(client)
        assert value(samples, "brickyard_jobs", kind="selftest", state="COMPLETE") == 20
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.to_thread(worker.wait, 15)

    async def none_live() -> bool:
        return value(await scrape(client), "brickyard_workers_live") == 0

    await wait_for(none_live, timeout_s=15)  # a worker that stops cleanly leaves at once
    samples = await scrape(client)
    assert total(samples, "brickyard_job_duration_seconds_count", kind="selftest") == 20


async def test_er_items_processed_and_failed_by_workers_and_in_the_gateway(
    client: TestClient, make_token: TokenFactory, run_jobs: JobRunner
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    namespace = await two_collections(client, client.app[SERVICES].pool, token)
    items = [entity(namespace, "ahu-1", "AHU"), entity(namespace, "fan-1", "Fan")]
    items.append(entity(namespace, "bad-1", "NoSuchClass"))
    response = await post_items(client, token, "entities", "august_14_81", items, is_async=True)
    assert response.status == 202
    await run_jobs()
    samples = await scrape(client)
    assert value(samples, "brickyard_items_processed_total", item="entity") == 3
    assert value(samples, "brickyard_items_failed_total", item="entity") == 1

    # A synchronous batch runs in the gateway, inside its request: counted there.
    items = [entity(namespace, "ahu-2", "AHU"), entity(namespace, "bad-2", "NoSuchClass")]
    response = await post_items(client, token, "entities", "august_14_81", items)
    assert response.status == 207
    samples = await scrape(client)
    assert value(samples, "brickyard_items_processed_total", item="entity") == 5
    assert value(samples, "brickyard_items_failed_total", item="entity") == 2
    kind = {"kind": "er_upsert_entities", "state": "COMPLETE"}
    assert value(samples, "brickyard_job_duration_seconds_count", **kind) == 2


def test_a_dependency_that_is_down_leaves_its_figures_out_instead_of_failing() -> None:
    status = ClusterStatus("q", jobs={("selftest", "COMPLETE"): 2}, unavailable={"Redis": "down"})
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(render(status, {}).decode())
        for sample in family.samples
    }
    assert value(samples, "brickyard_dependency_up", dependency="Redis") == 0
    assert value(samples, "brickyard_dependency_up", dependency="PostgreSQL") == 1
    assert value(samples, "brickyard_jobs", kind="selftest", state="COMPLETE") == 2
    assert value(samples, "brickyard_queue_depth") is None


async def test_a_job_run_again_after_an_interrupted_attempt_counts_as_a_retry(
    client: TestClient, make_token: TokenFactory, run_jobs: JobRunner
) -> None:
    token = await make_token("alice", "view")
    [job] = await start_selftests(client, token, 1)
    # As a worker that died mid-job leaves it: one attempt spent, no live lease.
    pool = client.app[SERVICES].pool
    await pool.execute("UPDATE jobs SET attempts = 1, started_at = now() WHERE token = $1", job)
    await run_jobs()
    samples = await scrape(client)
    assert value(samples, "brickyard_job_retries_total", kind="selftest") == 1
    assert value(samples, "brickyard_job_outcomes_total", kind="selftest", outcome="COMPLETE") == 1
