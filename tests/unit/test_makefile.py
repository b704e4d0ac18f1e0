"""The Makefile's promise: from a clean clone `make run` and `make test` each set up what they
need, and `make run` installs only what runs (the test extras are several hundred MB).

Checked with `make -n` (what make would run) on a copy of the Makefile in an empty directory."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def planned(target: str, clone: Path) -> list[str]:
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(clone), target],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line.strip() for line in done.stdout.splitlines()]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if "pip install" in line and "--upgrade pip" not in line]


def test_make_run_creates_the_venv_and_installs_the_project_without_the_test_extras(
    clone: Path,
) -> None:
    lines = planned("run", clone)
    assert any(line.endswith("-m venv .venv") for line in lines)
    assert installs(lines) == [".venv/bin/python -m pip install --quiet -e ."]
    assert lines[-1] == ".venv/bin/brickyard run"


@pytest.mark.parametrize("target", ["test", "lint", "test-unit"])
def test_make_test_and_lint_install_the_test_extras_from_a_clean_clone(
    clone: Path, target: str
) -> None:
    lines = planned(target, clone)
    assert any(line.endswith("-m venv .venv") for line in lines)
    assert installs(lines) == [".venv/bin/python -m pip install --quiet -e '.[test]'"]


def test_make_test_after_make_run_still_installs_the_test_extras(clone: Path) -> None:
    (clone / ".venv" / "bin").mkdir(parents=True)
    (clone / ".venv" / "bin" / "python").touch()
    (clone / ".venv" / ".installed").touch()  # what `make run` leaves
    assert installs(planned("run", clone)) == []
    assert installs(planned("test", clone)) == [
        ".venv/bin/python -m pip install --quiet -e '.[test]'"
    ]


def test_ci_runs_lint_then_test() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith("make ")
    ]
    assert commands == ["make lint", "make test"]
