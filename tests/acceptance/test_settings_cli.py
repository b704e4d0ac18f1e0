"""Settings seen from the commands: a bad value stops a command with one line naming the
variable (never a traceback), and each command's --help ends with the settings it reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def brickyard(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BRICKYARD_")}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_a_bad_setting_stops_the_command_with_one_line() -> None:
    done = brickyard("migrate", BRICKYARD_PORT="abc")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "brickyard migrate: invalid settings: BRICKYARD_PORT='abc' is not a whole number\n"
    )


def test_an_unreachable_server_is_one_line_too() -> None:
    done = brickyard("migrate", BRICKYARD_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("brickyard migrate: PostgreSQL: ")


def test_version() -> None:
    done = brickyard("--version")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("brickyard 0.")


@pytest.mark.parametrize(
    ("command", "reads", "ignores"),
    [
        ("gateway", ["PORT", "HOST", "MAX_BODY_BYTES", "REDIS_URL"], ["WORKERS", "JOB_LEASE"]),
        ("worker", ["WORKER_MAX_JOBS", "JOB_LEASE", "REDIS_URL"], ["PORT", "MAX_BODY_BYTES"]),
        ("migrate", ["DATABASE_URL", "DATABASE_SCHEMA"], ["REDIS_URL", "PORT"]),
        ("run", ["WORKERS", "PORT", "WORKER_MAX_JOBS"], []),
        # It finds the run's servers in the data dir, or asks the gateway (URL, else PORT's).
        ("status", ["DATABASE_URL", "REDIS_URL", "QUEUE_NAME", "DATA_DIR", "URL", "TOKEN", "PORT"],
         ["WORKERS"]),
        ("token create", ["DATABASE_URL", "DATA_DIR", "URL"], ["REDIS_URL", "TOKEN"]),
        ("token revoke", ["DATABASE_URL", "DATA_DIR"], ["REDIS_URL", "TOKEN"]),
        # The clients of the HTTP API read where the gateway is and the token, nothing else.
        ("import", ["URL", "TOKEN", "PUBLIC_URL"], ["DATABASE_URL", "REDIS_URL"]),
        ("import entities", ["URL", "TOKEN", "PUBLIC_URL", "DATA_DIR"], ["DATABASE_URL", "REDIS_URL"]),
        ("import brick", ["URL", "TOKEN"], ["DATABASE_URL", "QUEUE_NAME"]),
        ("export brick", ["URL", "TOKEN"], ["DATABASE_URL", "REDIS_URL"]),
        ("retry", ["URL", "TOKEN"], ["DATABASE_URL", "REDIS_URL"]),
    ],
)  # fmt: skip
def test_each_command_help_lists_the_settings_it_reads(
    command: str, reads: list[str], ignores: list[str]
) -> None:
    done = brickyard(*command.split(), "--help")
    assert done.returncode == 0
    for name in reads:
        assert f"BRICKYARD_{name} " in done.stdout
    for name in ignores:
        assert f"BRICKYARD_{name} " not in done.stdout
    assert "LOG_LEVEL" in done.stdout
    # The list is the end of the help.
    assert done.stdout.rstrip().splitlines()[-1].startswith("  BRICKYARD_")


def test_one_flag_names_the_gateway_url_in_every_command() -> None:
    for command in ("status", "import entities", "import brick", "export brick", "retry"):
        done = brickyard(*command.split(), "--help")
        assert "--url URL" in done.stdout, command
        assert "--gateway" not in done.stdout, command  # status's old name: a hidden alias
