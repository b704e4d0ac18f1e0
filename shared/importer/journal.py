"""What an import has done so far, so that ``--resume`` goes on where it stopped.

One JSON line per event: the run's header, then per batch ``accepted`` (its job) and ``done``,
and when the import ends its summary (``{"summary": ...}``: what was read, stored and refused).
A batch's Idempotency-Key is the run id and the batch number, so a batch whose POST was sent
but whose answer was lost (the client died in between) gets its first job back when resumed,
rather than a second one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from shared.importer.errors import BadInput
from shared.importer.sources import Item


def input_digest(kind: str, collection: str, batches: list[list[Item]]) -> str:
    digest = hashlib.sha256(f"{kind}\n{collection}\n".encode())
    for batch in batches:
        digest.update(b"\x00batch")
        for item in batch:
            digest.update(orjson.dumps(item.body, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


@dataclass
class Journal:
    path: Path | None
    run_id: str
    accepted: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: dict[int, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def start(cls, path: Path | None, digest: str, resume: bool) -> Journal:
        """A new journal, or with ``resume`` the one at ``path`` if it belongs to this input."""
        if resume and path is not None and path.exists():
            journal = cls.load(path, digest)
            if journal is not None:
                return journal
            raise BadInput(
                f"{path} records an import of other items or into another collection; "
                "run without --resume to start over"
            )
        journal = cls(path, secrets.token_hex(8))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(orjson.dumps({"run": journal.run_id, "input": digest}) + b"\n")
        return journal

    @classmethod
    def load(cls, path: Path, digest: str) -> Journal | None:
        lines = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        if not lines or lines[0].get("input") != digest:
            return None
        journal = cls(path, lines[0]["run"])
        for event in lines[1:]:
            if "batch" not in event:  # the summary of a run that ended
                continue
            target = journal.done if event.get("done") else journal.accepted
            target[event["batch"]] = event
        return journal

    def key(self, batch: int) -> str:
        return f"brickyard-import-{self.run_id}-{batch}"

    def record(self, event: dict[str, Any]) -> None:
        target = self.done if event.get("done") else self.accepted
        target[event["batch"]] = event
        if self.path is not None:
            with self.path.open("ab") as out:
                out.write(orjson.dumps(event) + b"\n")


def append_summary(path: Path | None, summary: dict[str, Any]) -> None:
    if path is not None:
        with path.open("ab") as out:
            out.write(orjson.dumps({"summary": summary}) + b"\n")
