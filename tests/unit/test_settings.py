"""Settings: declared once, validated (one line naming the variable), shown in the README;
Redis URLs, Sentinel included. The commands that read them: tests/acceptance/test_settings_cli.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.redis_url import SentinelTarget, parse_sentinel_url, redis_settings
from shared.settings import Settings, SettingsError, declared, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_round_trips_through_the_environment() -> None:
    changed = Settings().replace(
        database_url="postgresql://u@db:5432/b",
        redis_url="redis+sentinel://s1:26379,s2/mymaster/2",
        port=9000,
        public_url_override="https://by.example.org",
        data_dir=Path("/var/lib/brickyard"),
        job_lease_s=2.5,
        reconcile_interval_s=0.0,
        log_format="json",
    )
    assert Settings.from_env(changed.to_env()) == changed
    assert Settings.from_env({}) == Settings()
    # Empty is unset, as `VAR=` in a compose file or an env file means.
    assert Settings.from_env({"BRICKYARD_PORT": "", "BRICKYARD_REDIS_URL": ""}) == Settings()


def test_every_field_is_declared_with_a_variable_and_a_meaning() -> None:
    names = [item.metadata["env"] for item in declared()]
    assert len(names) == len(set(names)) == len(Settings.__dataclass_fields__)
    assert all(name.startswith("BRICKYARD_") for name in names)
    assert all(item.metadata["meaning"] for item in declared())


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("PORT", "abc", "is not a whole number"),
        ("PORT", "70000", "must be between 1 and 65535"),
        ("WORKER_MAX_JOBS", "0", "must be at least 1"),
        ("JOB_LEASE", "-1", "must be more than 0"),
        ("JOB_TIMEOUT", "nan", "must be more than 0"),
        ("RECONCILE_INTERVAL", "soon", "is not a number of seconds"),
        ("LOG_FORMAT", "xml", "must be one of json, console, auto"),
        ("DATABASE_URL", "mysql://db/x", "must be a postgresql:// or postgres:// URL"),
        ("DATABASE_URL", "postgresql://db:port/x", "has a port that is not a number"),
        ("DATABASE_SCHEMA", "Public", "must be a lower-case identifier"),
        ("PUBLIC_URL", "by.example.org", "must be a http:// or https:// URL"),
        ("REDIS_URL", "redis-cluster://a:1", "must start with redis://"),
        ("REDIS_URL", "redis://cache:port/0", "Port could not be cast"),
        ("REDIS_URL", "redis+sentinel://s1:26379,s2:26379", "names no service"),
        ("REDIS_URL", "redis+sentinel://s1:x/mymaster", "has no valid port"),
        ("REDIS_URL", "redis+sentinel://s1/mymaster/one", "database must be a number"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_is_wrong(
    variable: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({f"BRICKYARD_{variable}": value})
    message = str(raised.value)
    assert message.startswith(f"BRICKYARD_{variable}={value!r} ")
    assert complaint in message and "\n" not in message


def test_every_bad_value_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BRICKYARD_PORT": "abc", "BRICKYARD_LOG_LEVEL": "loud"})
    assert "BRICKYARD_PORT='abc'" in str(raised.value)
    assert "BRICKYARD_LOG_LEVEL='loud'" in str(raised.value)


def test_the_readme_table_is_the_declaration() -> None:
    """Regenerate it with `python -m shared.settings` after changing a setting."""
    assert markdown_table() in (ROOT / "README.md").read_text()


def test_sentinel_urls() -> None:
    assert parse_sentinel_url("redis+sentinel://s1:26380,s2/mymaster/3") == SentinelTarget(
        (("s1", 26380), ("s2", 26379)), "mymaster", 3
    )
    assert parse_sentinel_url("redis+sentinel://:p%40ss@[::1]:5000/primary") == SentinelTarget(
        (("::1", 5000),), "primary", 0, None, "p@ss"
    )
    arq = redis_settings("redis+sentinel://app:pw@s1:1,s2:2/mymaster/1")
    assert (arq.sentinel, arq.sentinel_master, arq.host) == (
        True,
        "mymaster",
        [("s1", 1), ("s2", 2)],
    )
    assert (arq.database, arq.username, arq.password) == (1, "app", "pw")
    plain = redis_settings("rediss://:pw@cache:6380/2")
    assert (plain.sentinel, plain.host, plain.port, plain.ssl, plain.database) == (
        False, "cache", 6380, True, 2,
    )  # fmt: skip
