"""The README's shell blocks as a new user pastes them (issue 22): each is valid bash, calls the
command as `.venv/bin/brickyard` (a clone has no `brickyard` on the PATH), and every file it
imports exists. The bulk-import block is also run for real: tests/acceptance/test_readme_import.py."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.readme_blocks import ROOT, commands, shell_blocks

# `brickyard` where the shell looks a command up: at the start, after `$(`, a pipe, `&&` or `;`.
BARE = re.compile(r"(?:^|\$\(|\||&&|;)\s*brickyard\s")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
@pytest.mark.parametrize("block", shell_blocks(), ids=lambda block: block.splitlines()[0][:40])
def test_each_shell_block_is_valid_bash(block: str) -> None:
    checked = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_no_block_calls_a_brickyard_that_is_not_on_the_path() -> None:
    bare = [line for block in shell_blocks() for line in commands(block) if BARE.search(line)]
    assert bare == []


def test_every_file_the_blocks_import_exists() -> None:
    imported = [
        line.split()[3]
        for block in shell_blocks()
        for line in commands(block)
        if line.startswith(".venv/bin/brickyard import ")
    ]
    assert imported  # the bulk-import block is still there
    assert [path for path in imported if not (ROOT / path).is_file()] == []
