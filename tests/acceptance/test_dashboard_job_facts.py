"""A job's page: its attempts with the worker of each, queue wait and run time, a timeline, a
batch's chunk helpers, and a crash's traceback for operators only."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import bearer


async def test_a_job_page_shows_its_attempts_worker_and_timeline(
    client: TestClient, services: Services, make_token, run_jobs
) -> None:
    token = await make_token("alice", "view", *("apollo_read", "apollo_write"))
    started = await client.post(
        "/selftest/async/start", json={"message": "hi"}, headers=bearer(token)
    )
    job = (await started.json())["token"]
    page = await client.get(f"/dashboard/fragments/jobs/{job}", headers=bearer(token))
    text = await page.text()
    assert 'id="queue-wait">waiting' in text and "No worker attempt recorded" in text
    await run_jobs()
    page = await client.get(f"/dashboard/fragments/jobs/{job}", headers=bearer(token))
    text = await page.text()
    row = text.split('id="attempts"', 1)[1].split("</table>", 1)[0]
    assert row.count("<tr>") == 2 and "<td>1</td>" in row  # header and the one attempt
    worker = row.split("<code>", 1)[1].split("</code>", 1)[0]
    assert worker.count(":") == 2  # host:pid:id, as workers name themselves
    assert "Attempt 1 started on " + worker in text and "<strong>Complete</strong>" in text
    assert 'id="run-time">' in text and 'id="run-time">-' not in text


async def crashed_job(client: TestClient, services: Services, token: str) -> str:
    started = await client.post(
        "/selftest/async/start", json={"message": "x"}, headers=bearer(token)
    )
    job = (await started.json())["token"]
    # A crash as the runner records it (tests/unit/test_jobs_runner.py checks the recording).
    await services.pool.execute(
        "UPDATE jobs SET state = 'FAILED', error_status = 500, finished_at = now(),"
        " crash_traceback = $2 WHERE token = $1",
        job, "Traceback (most recent call last):\nKeyError: 'bug'",
    )  # fmt: skip
    return job


async def test_a_crash_traceback_is_for_operators(
    client: TestClient, services: Services, make_token
) -> None:
    alice = await make_token("alice", "view")
    job = await crashed_job(client, services, alice)
    text = await (
        await client.get(f"/dashboard/fragments/jobs/{job}", headers=bearer(alice))
    ).text()
    assert "KeyError" not in text and "shown to operators" in text
    olga = await make_token("olga", "view", "operator")
    job = await crashed_job(client, services, olga)
    text = await (await client.get(f"/dashboard/fragments/jobs/{job}", headers=bearer(olga))).text()
    assert "KeyError: &#39;bug&#39;" in text and 'id="traceback"' in text
