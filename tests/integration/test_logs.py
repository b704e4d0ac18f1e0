"""Log lines operators rely on: one per job outcome. The lines of processes (arq's own as JSON,
"is up" once the gateway is ready): tests/acceptance/test_logs_processes.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from gateway.keys import SERVICES
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, entity, two_collections, upsert_ok

OUTCOME_EVENTS = {"job complete", "job ended"}


async def test_each_job_outcome_is_one_line(
    client: TestClient, make_token: TokenFactory, run_jobs: Callable[[], Awaitable[None]]
) -> None:
    token = await make_token("alice", "view")
    bodies = [{}, {"fail": "no"}, {"sleepSeconds": 5}]
    tokens = []
    for body in bodies:
        response = await client.post("/selftest/async/start", json=body, headers=bearer(token))
        tokens.append((await response.json())["token"])
    await client.post(f"/async/cancel/{tokens[2]}", headers=bearer(token))
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await run_jobs()
    outcomes = [line for line in lines if line["event"] in OUTCOME_EVENTS]
    assert sorted(line["job_token"] for line in outcomes) == sorted(tokens)
    by_token = {line["job_token"]: line for line in outcomes}
    assert by_token[tokens[0]]["event"] == "job complete"
    assert by_token[tokens[1]] | {"status": 400, "state": "FAILED"} == by_token[tokens[1]]
    assert by_token[tokens[2]]["state"] == "CANCELLED"
    assert all(line["job_kind"] == "selftest" for line in outcomes)


async def test_a_job_run_in_the_gateway_has_its_one_outcome_line_too(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    namespace = await two_collections(client, client.app[SERVICES].pool, token)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await upsert_ok(client, token, "entities", "august_14_81", [entity(namespace, "a", "AHU")])
    [outcome] = [line for line in lines if line["event"] in OUTCOME_EVENTS]
    assert outcome["event"] == "job complete"
    assert outcome["job_kind"] == "er_upsert_entities"
    assert len(outcome["job_token"]) == 32


async def test_a_token_in_a_url_path_is_not_logged(
    client: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", "view")
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await client.get(f"/async/get/{token}", headers=bearer(token))
        await client.get(f"/dashboard/jobs/{token}")
    paths = [line["path"] for line in lines if line["event"] == "request"]
    assert len(paths) == 2 and all(token not in path for path in paths), paths
    assert paths[0] == "/async/get/bky_[redacted]"
