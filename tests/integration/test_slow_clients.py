"""Slow and greedy clients cannot hold the gateway: silent and slow-header connections are
closed at the idle timeout, a slow body gets a 408, a client that goes away mid-request is one
quiet log line, a principal's open change-feed streams are capped, and a stream whose client
stops reading ends (issue 19, finding 8; docs/operations.md, "Limits")."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog
from aiohttp.test_utils import TestClient
from structlog.testing import capture_logs

from gateway.limits import STREAMS
from shared.services import Services
from shared.settings import Settings
from tests.conftest import TokenFactory, bearer, started_gateway
from tests.er_helpers import ALL_SCOPES, entity, two_collections, upsert_ok

LIMITS = {
    "idle_timeout_s": 1.0,
    "body_timeout_s": 1.0,
    "write_timeout_s": 1.0,
    "streams_per_principal": 2,
}


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[TestClient]:
    limited = settings.replace(**LIMITS)
    async with TestClient(await started_gateway(limited)) as test_client:
        yield test_client


async def connect(client: TestClient) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert client.port is not None
    return await asyncio.open_connection("127.0.0.1", client.port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before it closed the connection; fails if it stays open."""
    return await asyncio.wait_for(reader.read(), seconds)


async def test_a_silent_connection_is_closed_at_the_idle_timeout(strict: TestClient) -> None:
    reader, writer = await connect(strict)
    started = time.monotonic()
    assert await closed_within(reader, 5) == b""
    assert time.monotonic() - started < 3
    writer.close()


async def test_a_request_head_sent_a_line_at_a_time_is_closed_at_the_idle_timeout(
    strict: TestClient,
) -> None:
    reader, writer = await connect(strict)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()

    async def trickle() -> None:
        for number in range(100):
            writer.write(f"X-Slow-{number}: y\r\n".encode())
            await writer.drain()
            await asyncio.sleep(0.2)

    sending = asyncio.create_task(trickle())
    try:
        assert await closed_within(reader, 5) == b""
    finally:
        sending.cancel()
    assert time.monotonic() - started < 3
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed_after_its_answer(
    strict: TestClient,
) -> None:
    reader, writer = await connect(strict)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await closed_within(reader, 5)
    assert answer.startswith(b"HTTP/1.1 200")
    writer.close()


async def test_a_body_sent_slowly_is_a_408_and_the_connection_closes(
    strict: TestClient, make_token: TokenFactory
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    reader, writer = await connect(strict)
    writer.write(
        b"POST /apollo/er/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nerCollectionId: c1\r\n".encode()
        + b"Content-Length: 10000\r\n\r\n["
    )

    async def trickle() -> None:
        for _ in range(100):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)

    sending = asyncio.create_task(trickle())
    started = time.monotonic()
    try:
        answer = await closed_within(reader, 5)
    finally:
        sending.cancel()
    assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"did not arrive within 1 seconds" in answer
    writer.close()


@pytest.mark.parametrize("cancel_handlers", [False, True], ids=["production", "cancelling"])
async def test_a_client_that_goes_away_mid_body_is_one_quiet_line(
    settings: Settings, make_token: TokenFactory, cancel_handlers: bool
) -> None:
    """In production (aiohttp's default) the handler goes on and its read fails; where
    handlers are cancelled on a disconnect (aiohttp's test server), it is cancelled."""
    token = await make_token("alice", *ALL_SCOPES)
    server = await started_gateway(settings, cancel_handlers=cancel_handlers)
    async with TestClient(server) as client:
        await went_away_mid_body(client, token)


async def went_away_mid_body(client: TestClient, token: str) -> None:
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        _, writer = await connect(client)
        writer.write(
            b"POST /apollo/er/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\nerCollectionId: c1\r\n".encode()
            + b"Content-Length: 10000\r\n\r\n[{"
        )
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.transport.abort()
        for _ in range(50):
            if any(line["event"] == "request" for line in lines):
                break
            await asyncio.sleep(0.1)
    assert not [line for line in lines if line["log_level"] in ("error", "critical")], lines
    assert [line["event"] for line in lines if line["event"] == "client went away"] == [
        "client went away"
    ], lines
    [request] = [line for line in lines if line["event"] == "request"]
    assert request["status"] == 499


async def shrink_server_send_buffer(client: TestClient) -> None:
    """The kernel would buffer megabytes for a client that reads nothing; a small send buffer
    on the server's side of the connection makes its writes stall after a few kilobytes."""
    assert client.server.runner is not None
    server = client.server.runner.server
    assert server is not None
    for _ in range(50):
        if server.connections:
            break
        await asyncio.sleep(0.05)
    for connection in server.connections:
        assert connection.transport is not None
        sock = connection.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


async def test_a_principal_holds_at_most_its_share_of_open_streams(
    strict: TestClient, services: Services, make_token: TokenFactory
) -> None:
    alice = await make_token("alice", *ALL_SCOPES)
    await two_collections(strict, services.pool, alice, "c1", "c2")
    first, second = [
        await strict.get(
            "/apollo/changefeed/logs",
            headers={**bearer(alice), "erCollectionId": "c1", "Accept": "text/event-stream"},
        )
        for _ in range(2)
    ]
    assert first.status == second.status == 200
    third = await strict.get(
        "/apollo/changefeed/logs",
        headers={**bearer(alice), "erCollectionId": "c1", "Accept": "text/event-stream"},
    )
    body = await third.json()
    assert third.status == 429, body
    assert third.headers["Retry-After"] == "5"
    assert "At most 2 change-feed streams" in body["status"]["message"]
    first.close()
    for _ in range(50):  # the server sees the close at its next look at the connection
        again = await strict.get(
            "/apollo/changefeed/logs",
            headers={**bearer(alice), "erCollectionId": "c1", "Accept": "text/event-stream"},
        )
        if again.status == 200:
            break
        again.close()
        await asyncio.sleep(0.1)
    assert again.status == 200
    again.close()
    second.close()


async def test_a_stream_whose_client_stops_reading_ends(
    strict: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(strict, services.pool, token, "c1", "c2")
    long_id = "x" * 200
    for batch in range(6):  # about 200 KB of events: more than both (shrunk) buffers hold
        items = [entity(ns, f"{long_id}-{batch}-{i}", "AHU") for i in range(100)]
        await upsert_ok(strict, token, "entities", "c1", items)
    principal_id = (await services.auth.authenticate(token)).id
    slots = strict.app[STREAMS]
    _, writer = await connect(strict)
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await shrink_server_send_buffer(strict)
    writer.write(
        b"GET /apollo/changefeed/logs HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        + f"Authorization: Bearer {token}\r\nerCollectionId: c1\r\nLast-Event-ID: 0\r\n\r\n".encode()
    )
    await writer.drain()
    for _ in range(30):
        if slots.open_for(principal_id):
            break
        await asyncio.sleep(0.1)
    assert slots.open_for(principal_id) == 1
    # The client reads nothing: the server's writes stall, and the stream ends at the timeout.
    for _ in range(80):
        if not slots.open_for(principal_id):
            break
        await asyncio.sleep(0.1)
    assert slots.open_for(principal_id) == 0
    writer.transport.abort()


async def test_a_principals_stored_uploads_are_capped(
    settings: Settings, make_token: TokenFactory
) -> None:
    limited = settings.replace(upload_bytes_per_principal=1000)
    alice, bob = await make_token("alice", *ALL_SCOPES), await make_token("bob", *ALL_SCOPES)
    async with TestClient(await started_gateway(limited)) as client:

        async def upload(token: str, name: str, size: int) -> int:
            response = await client.put(
                f"/apollo/er/files/{name}", data=b"x" * size, headers=bearer(token)
            )
            return response.status

        assert await upload(alice, "a.json", 600) == 201
        assert await upload(alice, "a.json", 900) == 201  # a replacement counts once
        response = await client.put(
            "/apollo/er/files/b.json", data=b"x" * 200, headers=bearer(alice)
        )
        body = await response.json()
        assert response.status == 413, body
        assert (
            "limited to 1000 stored bytes per principal: 900 are kept" in body["status"]["message"]
        )
        assert await upload(bob, "b.json", 1000) == 201  # each principal has its own
        deleted = await client.delete("/apollo/er/files/a.json", headers=bearer(alice))
        assert deleted.status == 200, await deleted.text()
        assert await upload(alice, "b.json", 200) == 201
        missing = await client.delete("/apollo/er/files/a.json", headers=bearer(alice))
        assert missing.status == 404
        parallel = await asyncio.gather(*(upload(alice, f"p{i}.json", 300) for i in range(6)))
        assert sorted(parallel) == [201, 201, 413, 413, 413, 413]


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def aiohttp_server_records() -> Iterator[list[logging.LogRecord]]:
    """What aiohttp's server logger emits (its filters applied), whatever pytest captures."""
    logger, kept = logging.getLogger("aiohttp.server"), Kept()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(kept)
    try:
        yield kept.records
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)


async def test_a_request_aiohttp_cannot_parse_names_no_versions(
    client: TestClient, aiohttp_server_records: list[logging.LogRecord]
) -> None:
    reader, writer = await connect(client)
    writer.write(b"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    answer = await closed_within(reader, 5)
    head = answer.split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.0 400") or head.startswith("HTTP/1.1 400"), head
    assert "Server: brickyard" in head and "aiohttp" not in head and "Python" not in head
    writer.close()
    # Any client can send this at will: one info line, never an error with a traceback.
    records = aiohttp_server_records
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", "unparsable request: Invalid character in Content-Length:")
    ]
    assert all(r.exc_info is None for r in records)
