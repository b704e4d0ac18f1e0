"""``brickyard import``, ``export brick`` and ``retry``: argument parsing and the one line a
failure ends with. Registered into ``shared.cli`` by :func:`register`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from shared.importer.client import Api
from shared.importer.errors import ImportStopped
from shared.settings import Settings

Command = Callable[[Settings, argparse.Namespace], int]


def add_connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the gateway (default: BRICKYARD_URL, else this host's)")
    parser.add_argument("--token", help="a bearer token (default: BRICKYARD_TOKEN)")
    parser.add_argument(
        "--wait-for-server", type=float, default=60.0, metavar="SECONDS",
        help="how long an unreachable or unavailable server is retried (default 60)",
    )  # fmt: skip


def add_import_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ercollection", required=True, metavar="C", help="the ER collection")
    parser.add_argument("--failures", type=Path, metavar="FILE", help="failed items, as NDJSON")
    parser.add_argument("--resume", action="store_true", help="go on where an import stopped")
    parser.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="progress kept for --resume, ending with the import's summary (default: a file "
        "named after FILE and the collection in BRICKYARD_DATA_DIR/import-journals)",
    )
    parser.add_argument("--batch-size", type=int, default=10_000, metavar="N", help="at most 10000")
    parser.add_argument("--in-flight", type=int, default=4, metavar="N", help="batches at once")
    add_connection(parser)


def register(commands: argparse._SubParsersAction) -> dict[str, Command]:  # type: ignore[type-arg]
    """Add the client commands to ``brickyard``'s parser; their handlers by command name."""
    importing = commands.add_parser("import", help="import items or a Brick model over HTTP")
    what = importing.add_subparsers(dest="import_kind", required=True)
    for kind in ("entities", "relationships"):
        items = what.add_parser(kind, help=f"{kind} from NDJSON or CSV (FILE or - for stdin)")
        items.add_argument("file", metavar="FILE")
        items.add_argument("--format", choices=("ndjson", "csv"), help="default: by extension")
        add_import_options(items)
    brick = what.add_parser("brick", help="a Brick model (Turtle or any RDF rdflib reads)")
    brick.add_argument("file", metavar="MODEL")
    add_import_options(brick)

    exporting = commands.add_parser("export", help="export an ER collection")
    export_what = exporting.add_subparsers(dest="export_kind", required=True)
    export_brick = export_what.add_parser("brick", help="as a Brick model in Turtle")
    export_brick.add_argument("--ercollection", required=True, metavar="C")
    export_brick.add_argument("-o", "--output", type=Path, help="default: stdout")
    export_brick.add_argument(
        "--validate", action="store_true", help="check it with Brick's SHACL shapes"
    )
    add_connection(export_brick)

    retry = commands.add_parser(
        "retry", help="resubmit a transaction's failed items, or those a failures file lists"
    )
    retry.add_argument("transaction", metavar="TRANSACTION_ID", nargs="?")
    retry.add_argument(
        "--failures", type=Path, metavar="FILE",
        help="an NDJSON failures file (the dashboard's Failures download)",
    )  # fmt: skip
    add_connection(retry)
    return {"import": cmd_import, "export": cmd_export, "retry": cmd_retry}


def connection(settings: Settings, args: argparse.Namespace) -> Api:
    url = args.url or settings.gateway_url
    token = args.token or settings.client_token
    if not token:
        raise ImportStopped("no token: pass --token or set BRICKYARD_TOKEN")
    return Api(url, token, patience_s=args.wait_for_server)


def run_client(name: str, work: Coroutine[Any, Any, int]) -> int:
    """Run a client command; whatever stops it is one line on stderr and a non-zero exit."""
    try:
        return asyncio.run(work)
    except ImportStopped as stopped:
        print(f"brickyard {name}: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    except KeyboardInterrupt:
        print(f"brickyard {name}: interrupted; run again with --resume", file=sys.stderr)
        return 130


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from shared.importer.flows import import_brick, import_file

    try:
        api = connection(settings, args)
    except ImportStopped as stopped:
        print(f"brickyard import: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    # Journals are kept with the rest of this host's Brickyard data, not beside the input.
    args.journal_dir = settings.data_dir / "import-journals"
    flow = import_brick if args.import_kind == "brick" else import_file
    return run_client("import", flow(api, args))


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from shared.importer.flows import export_brick

    try:
        api = connection(settings, args)
    except ImportStopped as stopped:
        print(f"brickyard export: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    return run_client("export", export_brick(api, args))


def cmd_retry(settings: Settings, args: argparse.Namespace) -> int:
    from shared.importer.flows import retry_failed

    try:
        api = connection(settings, args)
    except ImportStopped as stopped:
        print(f"brickyard retry: {stopped.message}", file=sys.stderr)
        return stopped.exit_code
    return run_client("retry", retry_failed(api, args))
