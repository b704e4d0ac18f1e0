"""The ``Code:`` paragraphs of docs/ name real files: every path in backticks exists.

A name without a folder is looked up beside the last path named before it in the same paragraph
(``gateway/routes/apollo_er.py``, then ``apollo_er_reads.py``), and a numbered ``NNN_name.sql``
among the migrations."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("gateway/", "worker/", "shared/", "tests/", "deploy/", "docs/")
BACKTICKED = re.compile(r"`([^`]+)`")
MIGRATION = re.compile(r"\d{3}_[a-z0-9_]+\.sql")


def code_paragraphs(text: str) -> list[str]:
    paragraphs, current = [], None
    for line in text.splitlines():
        if line.startswith("Code:"):
            current = [line]
        elif current is not None and line.strip():
            current.append(line)
        elif current is not None:
            paragraphs.append(" ".join(current))
            current = None
    if current is not None:
        paragraphs.append(" ".join(current))
    return paragraphs


def missing_paths(paragraph: str) -> list[str]:
    missing, folder = [], ROOT
    for name in BACKTICKED.findall(paragraph):
        if "/" not in name and not name.endswith((".py", ".sql")):
            continue  # a word in backticks, not a path
        if MIGRATION.fullmatch(name):
            candidates = [ROOT / "shared" / "migrations" / name]
        elif name.startswith(TOP):
            candidates = [ROOT / name]
        else:
            candidates = [folder / name, folder.parent / name]
        found = [c for c in candidates if any(c.parent.glob(c.name)) or c.exists()]
        if not found:
            missing.append(name)
            continue
        folder = found[0] if found[0].is_dir() else found[0].parent
    return missing


def test_every_code_path_in_the_docs_exists() -> None:
    stale = {
        f"{page.name}: {name}"
        for page in sorted((ROOT / "docs").glob("*.md"))
        for paragraph in code_paragraphs(page.read_text())
        for name in missing_paths(paragraph)
    }
    assert sorted(stale) == []


def test_the_checker_finds_a_missing_path() -> None:
    paragraph = "Code: `gateway/routes/apollo_er.py`, `apollo_er_reads.py`, `no_such_module.py`."
    assert missing_paths(paragraph) == ["no_such_module.py"]
    assert missing_paths("Code: `shared/nowhere/` and `004_er.sql`.") == ["shared/nowhere/"]
