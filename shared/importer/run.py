"""The import itself: items in batches of at most 10000, several in flight, each an async ER
batch job followed until every item has a final state."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

import orjson

from shared.importer.client import Api
from shared.importer.errors import ImportStopped
from shared.importer.journal import Journal, input_digest
from shared.importer.progress import ProgressView
from shared.importer.sources import Item

MAX_BATCH = 10_000  # the gateway's limit for async: true
# Below the gateway's default body limit (BRICKYARD_MAX_BODY_BYTES, 10 MiB): items of 1 KiB or
# more would make a batch of 10000 a 413.
MAX_BATCH_BYTES = 8 * 1024 * 1024
POLL_S = 0.2
FINAL_STATES = {"Completed", "Failed"}


@dataclass(frozen=True, slots=True)
class Options:
    collection: str
    kind: str  # "entities" or "relationships"
    batch_size: int = MAX_BATCH
    in_flight: int = 4
    journal_path: Path | None = None
    resume: bool = False


@dataclass
class Summary:
    total: int = 0
    stored: int = 0
    failed: int = 0
    skipped: int = 0  # already final in an earlier run (--resume)
    seconds: float = 0.0
    transactions: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.stored + self.failed) / self.seconds if self.seconds else 0.0


class FailureFile:
    """Every failed item as one NDJSON line: where it came from, its reason, the item."""

    def __init__(self, path: Path | None, append: bool) -> None:
        self._out: TextIO | None = path.open("a" if append else "w") if path else None
        self.reasons: Counter[str] = Counter()  # this run's refusals, for the import's summary

    def write(self, item: Item | None, item_id: str, reason: str, **where: Any) -> None:
        if where.get("kind") != "skipped":  # skipped triples are no refusal (the summary's rule)
            self.reasons[reason] += 1
        if self._out is None:
            return
        line = {"id": item_id, "reason": reason, **where}
        if item is not None:
            line = {"line": item.line, **line} if item.line is not None else line
            line["item"] = item.body
        self._out.write(orjson.dumps(line).decode() + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


def batches_of(items: list[Item], size: int, max_bytes: int = MAX_BATCH_BYTES) -> list[list[Item]]:
    """Consecutive batches of at most ``size`` items and about ``max_bytes`` of JSON each."""
    size = max(1, min(size, MAX_BATCH))
    batches: list[list[Item]] = []
    current: list[Item] = []
    weight = 0
    for item in items:
        item_bytes = len(orjson.dumps(item.body)) + 1
        if current and (len(current) == size or weight + item_bytes > max_bytes):
            batches.append(current)
            current, weight = [], 0
        current.append(item)
        weight += item_bytes
    if current:
        batches.append(current)
    return batches


class Importer:
    def __init__(self, api: Api, options: Options, failures: FailureFile) -> None:
        self.api, self.options, self.failures = api, options, failures
        self._partial: dict[int, int] = {}
        self._finished = self._failed = 0

    async def run(self, items: list[Item], label: str) -> Summary:
        opts = self.options
        batches = batches_of(items, opts.batch_size)
        digest = input_digest(opts.kind, opts.collection, batches)
        journal = Journal.start(opts.journal_path, digest, opts.resume)
        summary = Summary(total=len(items))
        for number, event in journal.done.items():
            if number < len(batches):
                summary.skipped += len(batches[number])
                summary.stored += event["stored"]
                summary.failed += event["failed"]
                summary.transactions.append(event["transactionId"])
        self._finished, self._failed = summary.skipped, summary.failed
        view = ProgressView(label, len(items))
        view.update(self._finished, self._failed)
        started, gate = time.monotonic(), asyncio.Semaphore(max(1, opts.in_flight))
        pending = [n for n in range(len(batches)) if n not in journal.done]

        async def one(number: int) -> None:
            async with gate:
                stored, failed, transaction = await self._batch(
                    number, batches[number], journal, view
                )
            summary.stored += stored
            summary.failed += failed
            summary.transactions.append(transaction)

        try:
            async with asyncio.TaskGroup() as group:
                for number in pending:
                    group.create_task(one(number))
        except* ImportStopped as stopped:
            view.close(finished=False)
            raise stopped.exceptions[0] from None
        view.close()
        summary.seconds = time.monotonic() - started
        return summary

    async def _batch(
        self, number: int, batch: list[Item], journal: Journal, view: ProgressView
    ) -> tuple[int, int, str]:
        opts = self.options
        accepted = journal.accepted.get(number)
        if accepted is None:
            _, body, _ = await self.api.call(
                "POST",
                f"/apollo/er/{opts.kind}",
                body=[item.body for item in batch],
                headers={
                    "ercollectionid": opts.collection,
                    "async": "true",
                    "Idempotency-Key": journal.key(number),
                },
                ok=(202,),
            )
            data = body["data"]
            transaction = parse_qs(urlsplit(data["tracker"]).query)["transactionid"][0]
            accepted = {"batch": number, "token": data["token"], "transactionId": transaction}
            journal.record(accepted)
        outcomes = await self._follow(number, accepted, len(batch), view)
        stored = failed = 0
        for item in batch:
            state, message = outcomes.get(item.id, ("Failed", "no final state was reported"))
            if state == "Completed":
                stored += 1
            else:
                failed += 1
                self.failures.write(item, item.id, message, transactionId=accepted["transactionId"])
        journal.record(
            {**accepted, "done": True, "stored": stored, "failed": failed},
        )
        self._partial.pop(number, None)
        self._finished += len(batch)
        self._failed += failed
        view.update(self._finished + sum(self._partial.values()), self._failed)
        return stored, failed, accepted["transactionId"]

    async def _follow(
        self, number: int, accepted: dict[str, Any], size: int, view: ProgressView
    ) -> dict[str, tuple[str, str]]:
        """Poll the batch's job until it ends: each item's (state, message)."""
        while True:
            status, payload, _ = await self.api.raw("GET", f"/async/get/{accepted['token']}")
            body = orjson.loads(payload) if payload else {}
            if status == 202:
                self._partial[number] = min(int(body.get("progressCurrent") or 0), size)
                view.update(self._finished + sum(self._partial.values()), self._failed)
                await asyncio.sleep(POLL_S)
                continue
            if status == 200:
                responses = body["responses"]
                outcomes = {e["id"]: ("Completed", e["message"]) for e in responses["success"]}
                outcomes.update({e["id"]: ("Failed", e["message"]) for e in responses["failure"]})
                return outcomes
            if status == 401:
                raise ImportStopped("the server refused the token (401)")
            # Cancelled or failed as a whole: each item's log holds its own final state.
            return await item_states(self.api, accepted["transactionId"])


async def item_states(api: Api, transaction: str) -> dict[str, tuple[str, str]]:
    """Every item of a transaction with its (state, message), from its status logs."""
    states: dict[str, tuple[str, str]] = {}
    headers: dict[str, str] = {}
    while True:
        _, body, _ = await api.call(
            "GET", f"/apollo/status/logs?transactionid={transaction}&limit=1000", headers=headers
        )
        for record in body["data"] or []:
            service = record.get("serviceData") or {}
            item_id = service.get("entityId") or service.get("relationshipId")
            if isinstance(item_id, str) and record["state"] in FINAL_STATES:
                states[item_id] = (record["state"], record.get("message") or "")
        token = (body.get("paging") or {}).get("continuationToken")
        if not token:
            return states
        headers = {"continuationToken": token}
