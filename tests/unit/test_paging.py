"""The one paging module: the size rule and signed, query-bound continuation tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import BadRequest
from shared.paging import (
    DEFAULT_SIZE,
    MAX_SIZE,
    NOT_OURS,
    PageRequest,
    _b64,
    _unb64,
    binding_of,
    page_request,
    page_size,
    requested_size,
)

SECRET = b"s" * 32


class SecretOnly:
    """Stands in for the pool: the only query is the paging secret."""

    async def fetchval(self, sql: str) -> bytes:
        assert "server_secrets" in sql
        return SECRET


async def request(token: str | None, size: Any = None, *query: object) -> PageRequest:
    return await page_request(SecretOnly(), token, size, *query)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [None, ""])
def test_absent_is_the_default_size(raw: str | None) -> None:
    assert page_size(raw) == DEFAULT_SIZE == 100


@pytest.mark.parametrize(("raw", "size"), [("1", 1), ("1000", 1000), ("0042", 42)])
def test_sizes_in_range(raw: str, size: int) -> None:
    assert page_size(raw) == size


@pytest.mark.parametrize(
    "raw", ["0", "1001", "-1", "+5", " 5", "5 ", "1.0", "\N{SUPERSCRIPT TWO}", "x"]
)
def test_sizes_refused(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        page_size(raw, "size")
    assert (
        caught.value.message
        == f"Query parameter 'size' must be a whole number from 1 to {MAX_SIZE}"
    )


def test_the_query_parameter_wins_over_the_header() -> None:
    assert requested_size("5", "7") == 5
    assert requested_size(None, "7") == 7
    assert requested_size(None, None) == DEFAULT_SIZE
    with pytest.raises(BadRequest, match="Header 'PageSize'"):
        requested_size(None, "0")


async def test_a_token_resumes_the_same_query() -> None:
    first = await request(None, "2", "entities", "coll")
    assert (first.size, first.after, first.fetch) == (2, None, 3)
    shown, paging = first.page(10, ["a", "b", "c"], lambda row: row)
    assert shown == ["a", "b"] and paging["totalCount"] == 10
    token = paging["continuationToken"]
    following = await request(token, "2", "entities", "coll")
    assert following.after == "b"
    assert following.after_as(str, "") == "b"


async def test_the_last_page_has_no_token() -> None:
    first = await request(None, 2, "q")
    assert first.page(2, ["a", "b"], lambda row: row) == (
        ["a", "b"],
        {"totalCount": 2, "continuationToken": None},
    )


async def test_a_token_for_another_query_is_refused() -> None:
    token = (await request(None, 1, "entities", "a")).token_for(5)
    with pytest.raises(BadRequest) as caught:
        await request(token, 1, "entities", "b")
    assert (
        caught.value.message == "The continuationToken was issued for another query or collection"
    )


@pytest.mark.parametrize("kind", ["edited", "unsigned", "garbage", "not an object", "bad base64"])
async def test_tokens_we_did_not_issue_are_refused(kind: str) -> None:
    good = (await request(None, 1, "q")).token_for(5)
    payload, signature = good.split(".")
    token = {
        "edited": f"{_b64(json.dumps({'q': binding_of('q'), 'a': 6}).encode())}.{signature}",
        "unsigned": payload,
        "garbage": "a.b",
        "not an object": f"{_b64(b'[1]')}.{signature}",
        "bad base64": "%%%.%%%",
    }[kind]
    with pytest.raises(BadRequest) as caught:
        await request(token, 1, "q")
    assert caught.value.message == NOT_OURS


async def test_a_resume_point_of_the_wrong_shape_is_refused() -> None:
    page = await request((await request(None, 1, "q")).token_for("text"), 1, "q")
    with pytest.raises(BadRequest, match="not a token this service issued"):
        page.after_as(int, 0)
    boolean = await request((await request(None, 1, "q")).token_for(True), 1, "q")
    with pytest.raises(BadRequest):
        boolean.after_as(int, 0)
    assert (await request(None, 1, "q")).after_as(int, 0) == 0


def test_base64_round_trips_without_padding() -> None:
    for raw in (b"", b"a", b"ab", b"abc", bytes(range(256))):
        assert "=" not in _b64(raw)
        assert _unb64(_b64(raw)) == raw


def test_bindings_separate_their_parts() -> None:
    assert binding_of("ab", "c") != binding_of("a", "bc")
    assert binding_of(1, None) == binding_of("1", "None")
    assert len(binding_of("x")) == 24


def test_a_token_sent_as_a_query_parameter_is_the_token() -> None:
    from shared.paging import sent_token

    assert sent_token(None, None) is None
    assert sent_token("", "") is None
    assert sent_token("h.s", None) == "h.s"
    assert sent_token(None, "q.s") == "q.s"  # was ignored: page 1 again, and a client looped
    assert sent_token("t.s", "t.s") == "t.s"
    with pytest.raises(BadRequest, match="differ"):
        sent_token("t.s", "u.s")
