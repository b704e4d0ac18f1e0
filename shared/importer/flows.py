"""What each client command does, end to end, over the HTTP API."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from shared.importer.client import Api
from shared.importer.errors import BadInput, ImportStopped
from shared.importer.journal import append_summary
from shared.importer.run import FailureFile, Importer, Options, Summary
from shared.importer.sources import read_items


def journal_path(args: argparse.Namespace, suffix: str = "") -> Path | None:
    """``--journal``, else a file under the data dir named after the input file and the
    collection (not beside the input, which may be in a source tree or a read-only place)."""
    if args.journal is not None:
        journal: Path = args.journal
        return journal.with_name(journal.name + suffix) if suffix else journal
    if args.file == "-":
        return None  # stdin cannot be read again; --journal names where to keep progress
    source = Path(args.file).resolve()
    key = hashlib.sha256(f"{source}\n{args.ercollection}".encode()).hexdigest()[:12]
    directory: Path = args.journal_dir
    return directory / f"{source.name}.{key}.import-journal{suffix}"


def options(args: argparse.Namespace, kind: str, suffix: str = "") -> Options:
    if args.resume and journal_path(args, suffix) is None:
        raise ImportStopped("--resume with stdin needs --journal FILE")
    return Options(
        collection=args.ercollection,
        kind=kind,
        batch_size=args.batch_size,
        in_flight=args.in_flight,
        journal_path=journal_path(args, suffix),
        resume=args.resume,
    )


def report(summary: Summary, kind: str) -> None:
    print(
        f"{kind}: {summary.total} items, {summary.stored} stored, {summary.failed} failed"
        + (f" ({summary.skipped} done in an earlier run)" if summary.skipped else "")
        + f", {summary.seconds:.1f} s, {summary.rate:.0f} items/s",
        flush=True,
    )


def report_journal(*paths: Path | None) -> None:
    kept = [str(path) for path in paths if path is not None]
    if kept:
        print(f"journal: {', '.join(kept)}", flush=True)


async def import_file(api: Api, args: argparse.Namespace) -> int:
    from shared.importer.summary import items_summary

    items = read_items(args.file, args.format)
    failures = FailureFile(args.failures, append=args.resume)
    opts = options(args, args.import_kind)
    try:
        async with api:
            importer = Importer(api, opts, failures)
            summary = await importer.run(items, f"{args.import_kind} -> {args.ercollection}")
            counts = items_summary(args.import_kind, summary)
            await record_summary(
                api, args, args.import_kind, counts, failures, summary.transactions
            )
    finally:
        failures.close()
    report(summary, args.import_kind)
    append_summary(opts.journal_path, counts)
    report_journal(opts.journal_path)
    return 0


async def import_brick(api: Api, args: argparse.Namespace) -> int:
    from shared.importer.brick import read_model
    from shared.importer.plan import to_items
    from shared.importer.summary import model_lines, model_summary, write_refusals

    graph = read_model(args.file)
    failures = FailureFile(args.failures, append=args.resume)
    entity_opts = options(args, "entities", "-entities")
    relationship_opts = options(args, "relationships", "-relationships")
    try:
        async with api:
            catalog = await fetch_catalog(api, args.ercollection)
            plan = to_items(graph, catalog)
            if not args.resume:  # written the first time
                write_refusals(failures, plan)
            entities = await Importer(api, entity_opts, failures).run(
                plan.entities, f"entities -> {args.ercollection}"
            )
            report(entities, "entities")
            relationships = await Importer(api, relationship_opts, failures).run(
                plan.relationships, f"relationships -> {args.ercollection}"
            )
            report(relationships, "relationships")
            summary = model_summary(args.file, plan, entities, relationships)
            transactions = entities.transactions + relationships.transactions
            await record_summary(api, args, "brick", summary, failures, transactions)
    finally:
        failures.close()
    print("\n".join(model_lines(summary)), flush=True)
    for path in (entity_opts.journal_path, relationship_opts.journal_path):
        append_summary(path, summary)
    report_journal(entity_opts.journal_path, relationship_opts.journal_path)
    return 0


async def record_summary(
    api: Api, args: argparse.Namespace, kind: str, summary: dict[str, Any],
    failures: FailureFile, transactions: list[str],
) -> None:  # fmt: skip
    """Report the finished import to the server, for the dashboard's Imports page. The import
    is done whatever this answers: a refusal is a warning, not the import's failure."""
    body = {
        "kind": kind, "source": Path(args.file).name, "erCollectionId": args.ercollection,
        "summary": summary, "refusalsByReason": dict(failures.reasons.most_common(500)),
        "transactions": transactions[:10_000],
    }  # fmt: skip
    try:
        await api.call("POST", "/apollo/imports", body=body, ok=(201,))
    except ImportStopped as refused:
        print(f"warning: the import's summary was not recorded: {refused.message}", file=sys.stderr)


async def fetch_catalog(api: Api, collection: str) -> dict[str, Any]:
    _, body, _ = await api.call("GET", f"/apollo/er/ercollections/{collection}/brick/types")
    catalog: dict[str, Any] = body["data"]
    return catalog


async def export_brick(api: Api, args: argparse.Namespace) -> int:
    async with api:
        status, payload, _ = await api.raw(
            "GET",
            f"/apollo/er/ercollections/{args.ercollection}/brick",
            headers={"Accept": "text/turtle"},
        )
    if status != 200:
        from shared.importer.client import refusal

        raise ImportStopped(refusal("GET", "the export", status, payload))
    if args.output is not None:
        args.output.write_bytes(payload)
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    if args.validate:
        from shared.importer.brick import release_of
        from shared.importer.shacl import validate

        summary = validate(payload, release_of(payload))
        print("\n".join(summary.lines()), file=sys.stderr)
        return 0 if summary.conforms else 3
    return 0


async def retry_failed(api: Api, args: argparse.Namespace) -> int:
    if (args.transaction is None) == (args.failures is None):
        raise BadInput("name a TRANSACTION_ID or a --failures FILE (one of them)")
    async with api:
        if args.failures is None:
            path = f"/apollo/status/{args.transaction}/retry"
            _, body, _ = await api.call("POST", path, ok=(202,))
        else:
            listed = {"items": failures_file_keys(args.failures)}
            _, body, _ = await api.call("POST", "/apollo/failures/retry", body=listed, ok=(202,))
    data = body["data"]
    print(
        f"resubmitted {data['count']} failed items as transaction {data['transactionId']}: "
        f"{data['tracker']} (job {data['token']})"
    )
    return 0


def failures_file_keys(path: Path) -> list[dict[str, Any]]:
    """The transaction and id of each line of a failures file (the dashboard's download or an
    import's --failures file): what names a kept failed item. Refused before sending (no
    transaction): nothing on the server to retry, so left out."""
    try:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return [
            {"transactionId": x["transactionId"], "id": x["id"]}
            for x in lines
            if "transactionId" in x
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path} is not a failures file (NDJSON, one item a line): {exc}") from exc
