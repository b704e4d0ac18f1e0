"""A multi-host PostgreSQL URL (libpq style) is accepted only with a target that picks a primary;
the errors a failover raises count as PostgreSQL outages. The failover itself:
tests/acceptance/test_failover.py."""

from __future__ import annotations

import asyncpg
import pytest

from shared.db import host_urls
from shared.outages import outage_of
from shared.settings import Settings, SettingsError

MULTI = "postgresql://u@db1:5432,db2:5433,[::1]:5434/b"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db:5432/b",
        "postgres://db/b",
        f"{MULTI}?target_session_attrs=read-write",
        f"{MULTI}?sslmode=require&target_session_attrs=primary",
        "postgresql://u:p%40ss@db1,db2/b?target_session_attrs=read-write",
    ],
)
def test_single_and_multi_host_urls_are_accepted(url: str) -> None:
    assert Settings.from_env({"BRICKYARD_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (MULTI, "target_session_attrs=read-write"),
        (f"{MULTI}?target_session_attrs=any", "target_session_attrs=read-write"),
        ("postgresql://db1:5432,db2:x/b?target_session_attrs=read-write", "not a number"),
        ("postgresql://db:x/b", "not a number"),
        ("mysql://db/b", "postgresql://"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url: str, complaint: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BRICKYARD_DATABASE_URL": url})
    assert complaint in str(raised.value)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.TargetServerAttributeNotMatched("no host is read-write"),
        asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT"),
    ],
)
def test_no_primary_is_a_postgres_outage(error: Exception) -> None:
    assert outage_of(error) == "PostgreSQL"


def test_other_client_errors_stay_bugs() -> None:
    assert outage_of(asyncpg.exceptions.ClientConfigurationError("bad option")) is None


def test_a_multi_host_url_is_one_url_per_host() -> None:
    assert host_urls(
        "postgresql://u:p@h1:5432,h2,[::1]:5434/b?target_session_attrs=read-write"
    ) == [
        "postgresql://u:p@h1:5432/b?target_session_attrs=read-write",
        "postgresql://u:p@h2/b?target_session_attrs=read-write",
        "postgresql://u:p@[::1]:5434/b?target_session_attrs=read-write",
    ]
    for single in (
        "postgresql://postgres:@/brickyard?host=/run/x",
        "postgresql:///b",
        "postgres://h/b",
    ):
        assert host_urls(single) == [single]
