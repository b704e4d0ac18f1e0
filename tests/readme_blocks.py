"""The README's shell blocks, for the tests that check them (tests/unit/test_readme.py) and run
one (tests/acceptance/test_readme_import.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def sections() -> dict[str, str]:
    """Each `## ` section of the README by its title."""
    parts = re.split(r"^## (.+)$", README.read_text(), flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def shell_blocks(text: str | None = None) -> list[str]:
    source = README.read_text() if text is None else text
    return re.findall(r"^```sh\n(.*?)^```", source, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[str]:
    """The block's command lines (continuations joined, comments dropped)."""
    joined = block.replace("\\\n", " ")
    return [
        line.strip()
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
