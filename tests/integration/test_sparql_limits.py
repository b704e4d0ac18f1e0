"""No single SPARQL request takes the endpoint or the gateway down (issue 19): a query that
crashes pyoxigraph costs its query process only, SERVICE never reaches the network however it
is written, a query past its time or memory limit stops using CPU and memory, and one principal
cannot hold every query process."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestClient

from shared.settings import Settings
from shared.sparql import query
from shared.sparql.processes import QueryCrashed, QueryProcess
from tests.brick_model import brick_schema_collection
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, put_grants, register

ENDPOINT = "/apollo/er/ercollections/site/sparql"
# Each solution is cheap but there are 60000^2 of them, counted before the first is returned:
# only killing the process stops it.
CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }"
ONE_ROW = "SELECT ?s { ?s a owl:Class } LIMIT 1"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A local TCP server a SERVICE clause would call; the test checks nobody connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    try:
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}/sparql"
    finally:
        server.close()


def connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            server.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def service_forms(url: str) -> list[str]:
    host_path = url.removeprefix("http://")
    return [
        f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <http://{host_path}\u00a0> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <http://{host_path.rsplit('/', 1)[0]}/>\n"
        "SELECT * { SERVICE remote:sparql { ?s ?p ?o } }",
        f"BASE <{url}>\nSELECT * {{ SERVICE <> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ VALUES ?u {{ <{url}> }} SERVICE ?u {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE#x\n<{url}> {{ ?s ?p ?o }} }}",
    ]


def test_a_query_process_never_opens_a_socket(listener: tuple[socket.socket, str]) -> None:
    """The sandbox, not the text filter, is what keeps SERVICE off the network: the forms are
    sent to the process directly, past the filter."""
    server, url = listener
    process = QueryProcess(memory_limit_mb=512)
    try:
        for text in service_forms(url):
            found = process.call(("query", text, [], {}, 5.0, 10, query.JSON_RESULTS), 10.0)
            # SILENT turns the refused call into an empty solution, as SPARQL says it should.
            assert "error" in found or " silent " in text, (text, found)
        assert connections(server) == 0
    finally:
        process.stop()


def test_a_query_that_crashes_its_process_costs_that_process_only() -> None:
    nested = "SELECT * WHERE " + "{" * 20000 + " ?s ?p ?o " + "}" * 20000
    process = QueryProcess(memory_limit_mb=512)
    try:
        with pytest.raises(QueryCrashed):
            process.call(("query", nested, [], {}, 5.0, 10, query.JSON_RESULTS), 10.0)
        assert not process.alive
        # The next call starts another process, which answers.
        found = process.call(("query", "ASK {}", [], {}, 5.0, 10, query.JSON_RESULTS), 10.0)
        assert found["body"] == '{"head": {}, "boolean": true}'
    finally:
        process.stop()


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.replace(sparql_memory_mb=200)


async def refused(client: TestClient, token: str, text: str, status: int = 400) -> str:
    headers = {**bearer(token), "Content-Type": "application/sparql-query"}
    response = await client.post(ENDPOINT, data=text.encode(), headers=headers)
    body = await response.json()
    assert response.status == status, body
    return str(body["status"]["message"])


async def timed_ok(client: TestClient, path: str, token: str, **params: str) -> float:
    started = time.monotonic()
    response = await client.get(path, params=params, headers=bearer(token))
    assert response.status == 200, await response.text()
    return time.monotonic() - started


def busy_children() -> set[int]:
    """Query processes of this test process that are using CPU (state R)."""
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(os.getpid()) and fields[0] == "R":
            found.add(int(entry))
    return found


async def test_no_single_request_takes_sparql_or_the_gateway_down(
    client: TestClient,
    make_token: TokenFactory,
    background_worker: None,
    listener: tuple[socket.socket, str],
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    await brick_schema_collection(client, alice, "Brick_1_4", "1.4")
    assert (await register(client, alice, "site", "Brick_1_4")).status == 201
    await put_grants(client, alice, "site", bob="readonly")
    bob = await make_token("bob", "apollo_read")
    assert await timed_ok(client, ENDPOINT, alice, query=ONE_ROW) < 10  # warms a process

    # The nested-query family: refused before any process sees it.
    for opener, closer in (("{", "}"), ("(", ")"), ("[", "]")):
        text = "SELECT * WHERE { " + opener * 5000 + closer * 5000 + " }"
        assert "deep" in await refused(client, alice, text)
    # Every SERVICE form is refused, and nothing connected.
    server, url = listener
    for text in service_forms(url):
        message = await refused(client, alice, text)
        assert "SERVICE" in message or "parse" in message, text
    assert connections(server) == 0

    # A search body of tens of thousands of clauses: a 400 before any SQL.
    clauses = [{"term": {"id": f"e{i}"}} for i in range(40_000)]
    search = await client.post(
        "/apollo/graph/entities/search/query",
        json={"query": {"bool": {"should": clauses}}},
        headers={**bearer(alice), "erCollectionId": "site"},
    )
    assert search.status == 400
    # Two long queries of one principal: a third is a 429, and everyone else goes on.
    long_queries = [
        asyncio.create_task(
            client.get(ENDPOINT, params={"query": CARTESIAN_COUNT, "timeout": "3"},
                       headers=bearer(alice))
        )
        for _ in range(2)
    ]  # fmt: skip
    await asyncio.sleep(0.5)
    response = await client.get(ENDPOINT, params={"query": ONE_ROW}, headers=bearer(alice))
    assert response.status == 429 and response.headers["Retry-After"] == "1"
    assert await timed_ok(client, "/healthz", alice) < 1
    started = time.monotonic()
    read = await client.get(
        "/apollo/er/entities", headers={**bearer(bob), "erCollectionId": "site"}
    )
    assert read.status in (200, 404) and time.monotonic() - started < 1  # another user's ER read
    # Another reader's query, on the process left free (its graphs filled on the way).
    assert await timed_ok(client, ENDPOINT, bob, query=ONE_ROW) < 2
    assert await timed_ok(client, ENDPOINT, bob, query=ONE_ROW) < 1
    for answered in await asyncio.gather(*long_queries):
        assert answered.status == 400
        assert "time limit" in (await answered.json())["status"]["message"]
    # Past the limit the work is gone, not going on in the background.
    await asyncio.sleep(0.3)
    assert not busy_children()
    assert await timed_ok(client, ENDPOINT, bob, query=ONE_ROW) < 1


async def test_a_query_past_its_memory_limit_is_stopped(
    limited: Settings, make_token: TokenFactory, background_worker: None
) -> None:
    from aiohttp.test_utils import TestServer

    from gateway.app import create_app

    async with TestClient(TestServer(create_app(limited))) as client:
        alice = await make_token("alice", *ALL_SCOPES)
        await brick_schema_collection(client, alice, "Brick_1_4", "1.4")
        assert (await register(client, alice, "site", "Brick_1_4")).status == 201
        # Sorting needs every solution in memory at once.
        text = "SELECT ?a ?d { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?d LIMIT 1"
        assert "memory limit of 200 MB" in await refused(client, alice, text)
        assert await timed_ok(client, ENDPOINT, alice, query=ONE_ROW) < 5
