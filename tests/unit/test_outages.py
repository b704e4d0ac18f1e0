"""What is an outage (retried, a 503) and what is a bug (a 500): decided without servers."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import pytest
import redis.exceptions

from shared.outages import DependencyDown, backoff_delays, is_outage, outage_of


def raised_in(module: str, error: BaseException) -> BaseException:
    """``error`` as if a function of ``module`` had raised it (its traceback names the module)."""
    namespace: dict[str, Any] = {"__name__": module, "error": error}
    exec("def fail():\n    raise error", namespace)
    try:
        namespace["fail"]()
    except BaseException as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), "PostgreSQL"),
        (asyncpg.exceptions.CannotConnectNowError("starting"), "PostgreSQL"),
        (asyncpg.exceptions.AdminShutdownError("stopping"), "PostgreSQL"),
        (asyncpg.exceptions.TooManyConnectionsError("full"), "PostgreSQL"),
        (
            asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
            "PostgreSQL",
        ),
        (redis.exceptions.ConnectionError("refused"), "Redis"),
        (redis.exceptions.BusyLoadingError("loading"), "Redis"),
        (redis.exceptions.TimeoutError("slow"), "Redis"),
        (DependencyDown("PostgreSQL"), "PostgreSQL"),
        (raised_in("asyncpg.connect_utils", ConnectionRefusedError()), "PostgreSQL"),
        (raised_in("redis.asyncio.connection", TimeoutError()), "Redis"),
        (raised_in("arq.connections", OSError("unreachable")), "Redis"),
    ],
)
def test_outages(error: BaseException, dependency: str) -> None:
    assert outage_of(error) == dependency
    assert is_outage(error) is True


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bug"),
        asyncpg.InterfaceError("another operation is in progress"),
        asyncpg.exceptions.UndefinedTableError("no table"),
        asyncpg.exceptions.QueryCanceledError("cancelled"),
        asyncpg.exceptions.InvalidPasswordError("wrong password"),
        redis.exceptions.AuthenticationError("wrong password"),
        redis.exceptions.ResponseError("WRONGTYPE"),
        FileNotFoundError("ours"),
        TimeoutError("a deadline of our own"),
        raised_in("shared.somewhere", ConnectionRefusedError()),
    ],
)
def test_not_outages(error: BaseException) -> None:
    assert outage_of(error) is None
    assert is_outage(error) is False


def test_an_os_error_is_owned_by_the_innermost_client_library() -> None:
    # Raised by our code inside a callback that asyncpg called: ours, not an outage.
    inner = raised_in("shared.callback", OSError("ours"))
    namespace: dict[str, Any] = {"__name__": "asyncpg.protocol", "inner": inner}
    exec("def call():\n    raise inner", namespace)
    try:
        namespace["call"]()
    except OSError as exc:
        # The traceback runs asyncpg's frame first, then (innermost) ours.
        assert outage_of(exc) is None


def test_the_event_loop_frames_under_a_client_name_no_server() -> None:
    """On uvloop a refused connect's innermost frame is the loop's; asyncpg above it owns it
    (a worker once exited on a PostgreSQL restart for want of this)."""
    event_loop: dict[str, Any] = {"__name__": "uvloop.loop"}
    exec("def create_connection():\n    raise ConnectionRefusedError(111, 'refused')", event_loop)
    client: dict[str, Any] = {
        "__name__": "asyncpg.connect_utils",
        "create_connection": event_loop["create_connection"],
    }
    exec("def connect():\n    create_connection()", client)
    with pytest.raises(ConnectionRefusedError) as refused:
        client["connect"]()
    assert outage_of(refused.value) == "PostgreSQL"


def test_dependency_down_says_which() -> None:
    down = DependencyDown("Redis")
    assert down.dependency == "Redis" and str(down) == "Redis is unreachable"


def test_backoff_doubles_to_its_cap_for_ever() -> None:
    assert list(itertools.islice(backoff_delays(), 7)) == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert list(itertools.islice(backoff_delays(1, 3), 4)) == [1, 2, 3, 3]
