"""The ``brickyard`` command: run, gateway, worker, migrate, token, status."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import asyncpg
import redis.exceptions
import structlog

from shared.auth.rows import TokenInfo
from shared.cpu_priority import lower_own_priority
from shared.db import connect
from shared.importer.commands import register as client_commands
from shared.logging import configure_logging
from shared.migrations import apply_migrations
from shared.observability.status_command import add_arguments as status_arguments
from shared.outages import outage_of
from shared.settings import Settings, SettingsError, settings_help

log = structlog.get_logger("brickyard")


async def migrate(settings: Settings) -> list[str]:
    conn = await connect(settings)
    try:
        return await apply_migrations(conn, settings.database_schema)
    finally:
        await conn.close()


def require_service_urls(settings: Settings, command: str) -> None:
    # Embedded servers belong to one supervising process (`brickyard run`); a lone gateway or
    # worker must be pointed at the same servers as its peers.
    if not settings.database_url or not settings.redis_url:
        sys.exit(
            f"brickyard {command}: set BRICKYARD_DATABASE_URL and BRICKYARD_REDIS_URL "
            "(or use 'brickyard run', which starts embedded servers)"
        )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from shared.embedded import embedded_services
    from shared.running import recorded
    from shared.supervisor import port_is_free, supervise

    configure_logging(settings, process="supervisor")
    if not port_is_free(settings.host, settings.port):
        log.error("the gateway's port is taken", host=settings.host, port=settings.port)
        return 1
    with embedded_services(settings) as (resolved, servers):
        applied = asyncio.run(migrate(resolved))
        log.info("migrations up to date", applied=applied)
        # For `brickyard token` and `status` in another terminal: the servers it started.
        with recorded(settings, resolved):
            return supervise(resolved, servers, embedded_database=not settings.database_url)


def use_uvloop() -> None:
    """The long-running processes run on uvloop: its transports are C, and socket writes to
    PostgreSQL, Redis and HTTP clients were about 45% of the gateway's CPU on asyncio's own
    (py-spy, 16 concurrent synchronous batches); on uvloop, 16 concurrent synchronous batches
    went from about 19500 to 21000 items/s. Where uvloop is not installed (Windows), asyncio's."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# Allocations between young collections (Python's default is 700). A request's objects are
# mostly freed by reference counting before this many pile up, so the collector then finds
# little to walk; the cycles it does collect wait a little longer.
YOUNG_COLLECTION_THRESHOLD = 10_000


def tune_collector() -> None:
    """Move what start-up built (modules, routes, pools) out of the garbage collector's reach,
    where every full collection walked it again, and collect the young generation less often.
    The collector took 4-5% of a process serving synchronous batches at concurrency 16, about
    0.02% after (gc.callbacks, 80000 items run in one process; issue 21)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


def _gateway_up(url: str) -> None:
    tune_collector()
    log.info("gateway is up", url=url)


def cmd_gateway(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.app import create_app
    from gateway.limits import server_options

    configure_logging(settings, process="gateway")
    require_service_urls(settings, "gateway")
    use_uvloop()
    url = f"http://{settings.host}:{settings.port}"
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # Called once the app's start-up (pool, migrations, Redis) is done and the port is bound.
        print=lambda _: _gateway_up(url),
        access_log=None,
        shutdown_timeout=5,
        # Several gateway processes of one `brickyard run` share the port; the kernel spreads
        # connections among them.
        reuse_port=settings.gateway_processes > 1,
        **server_options(settings),
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from worker.settings import make_worker

    configure_logging(settings, process="worker")
    require_service_urls(settings, "worker")
    use_uvloop()
    lower_own_priority(settings.worker_niceness)
    worker = make_worker(settings, handle_signals=True)
    tune_collector()  # what is built by now (its pool comes up in run())
    worker.run()
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from shared.embedded import services_for

    configure_logging(settings, process="migrate", stream=sys.stderr)
    with services_for(settings, redis=False) as resolved:
        applied = asyncio.run(migrate(resolved))
    log.info("migrations up to date", applied=applied)
    return 0


def token_table(tokens: list[TokenInfo]) -> str:
    """One line per token: what tells tokens apart, never the secret or its whole hash."""
    lines = ["id\tprincipal\tstate\tfingerprint\tcreated\texpires\tscopes"]
    for t in tokens:
        expires = t.expires_at.isoformat(timespec="seconds") if t.expires_at else "never"
        created = t.created_at.isoformat(timespec="seconds")
        lines.append(
            f"{t.id}\t{t.principal}\t{t.state}\t{t.fingerprint}\t{created}\t{expires}\t"
            + ",".join(t.scopes)
        )
    return "\n".join(lines)


def secret_to_revoke(argument: str) -> str:
    """The token to revoke: from stdin unless given (a token on the command line is seen by
    ps and kept in shell history)."""
    secret = sys.stdin.readline().strip() if argument == "-" else argument
    if not secret:
        raise SystemExit("brickyard token revoke: no token on stdin")
    return secret


async def _token_command(settings: Settings, args: argparse.Namespace) -> str | None:
    from shared.auth import AuthService
    from shared.db import create_pool

    await migrate(settings)
    pool = await create_pool(settings)
    try:
        auth = AuthService(pool)
        if args.token_command == "create":
            token, token_id = await auth.create_token_with_id(
                args.principal, args.scope, args.expires_in
            )
            print(f"token id {token_id} (revoke it with: brickyard token revoke --id {token_id})",
                  file=sys.stderr)  # fmt: skip
            return token
        if args.token_command == "list":
            tokens = await auth.list_tokens(args.principal, include_ended=args.all)
            print(token_table(tokens))
            return None
        if args.id is not None:
            await auth.revoke_token_by_id(args.id)
        else:
            await auth.revoke_token(secret_to_revoke(args.token))
        print("revoked", file=sys.stderr)
        return None
    finally:
        await pool.close()


@contextlib.contextmanager
def token_database(settings: Settings) -> Iterator[Settings]:
    """The database a token goes to: BRICKYARD_DATABASE_URL's; else that of the live `brickyard
    run` recorded in the data dir; else the embedded one the data dir already holds (the next
    run there uses it). Never a new one: in a second terminal whose working directory is not
    the run's, a fresh embedded PostgreSQL took the token, and the running gateway refused it."""
    from shared.embedded import services_for
    from shared.running import gateway_answers, running

    if settings.database_url:
        yield settings
        return
    data_dir = settings.data_dir.resolve()
    record = running(settings.data_dir)
    if record is not None and record.database_url is None:
        raise SystemExit(
            f"brickyard token: the brickyard run using the data dir {data_dir} (pid {record.pid}) "
            "uses an external PostgreSQL: set BRICKYARD_DATABASE_URL as it has"
        )
    if record is not None:
        yield settings.replace(database_url=record.database_url)
        return
    where = f"the data dir {data_dir} (BRICKYARD_DATA_DIR)"
    if gateway_answers(settings.gateway_url):
        raise SystemExit(
            f"brickyard token: a gateway answers at {settings.gateway_url}, but no brickyard run "
            f"uses {where}, so it would not know a token minted here. Run this in the directory "
            "`make run` runs in, or set BRICKYARD_DATA_DIR to its data dir (or "
            "BRICKYARD_DATABASE_URL to its database)"
        )
    if not (data_dir / "postgres").is_dir():
        raise SystemExit(
            f"brickyard token: no brickyard run uses {where}, and it holds no database. Start "
            "one first (`make run`) and mint the token in the same directory, or set "
            "BRICKYARD_DATA_DIR to its data dir (or BRICKYARD_DATABASE_URL to its database)"
        )
    log.info("no brickyard run uses the data dir; using its database", data_dir=str(data_dir))
    with services_for(settings, redis=False) as resolved:
        yield resolved


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    from shared.errors import BrickyardError

    configure_logging(settings, process="token", stream=sys.stderr)
    with token_database(settings) as resolved:
        try:
            token = asyncio.run(_token_command(resolved, args))
        except BrickyardError as error:
            print(f"brickyard token: {error.message}", file=sys.stderr)
            return 2
    if token is not None:
        print(token)
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from shared.observability.status_command import run_status

    configure_logging(settings, process="status", stream=sys.stderr)
    return run_status(settings, args)


def version() -> str:
    try:
        return metadata.version("brickyard")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="brickyard", description=__doc__)
    parser.add_argument("--version", action="version", version=f"brickyard {version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, parent: Any = commands) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help, description=help)  # type: ignore[no-any-return]

    command("run", "embedded services if needed, migrations, gateway and workers")
    command("gateway", "the HTTP gateway alone")
    command("worker", "one arq worker")
    command("migrate", "apply database migrations")
    token = command("token", "create, list or revoke access tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = command("create", "print a new token on stdout", token_commands)
    create.add_argument("--principal", required=True)
    create.add_argument("--scope", action="append", required=True, help="repeat for more scopes")
    create.add_argument("--expires-in", type=int, default=None, metavar="SECONDS")
    revoke = command(
        "revoke", "revoke a token (read from stdin, so it stays out of ps and history)",
        token_commands,
    )  # fmt: skip
    revoke.add_argument(
        "token", nargs="?", default="-", help="the token, or - (the default) to read it from stdin"
    )
    revoke.add_argument(
        "--id", type=int, default=None, help="revoke the token of this id (see token list)"
    )
    listing = command(
        "list",
        "list tokens by id (live ones unless --all); the fingerprint is the first 8 hex digits "
        'of the token\'s SHA-256: printf %%s "$TOKEN" | sha256sum | cut -c1-8',
        token_commands,
    )
    listing.add_argument("--principal", default=None, help="only this principal's tokens")
    listing.add_argument("--all", action="store_true", help="revoked and expired ones too")
    status = command("status", "queue depth, jobs by state, live workers")
    status_arguments(status)
    COMMANDS.update(client_commands(commands))  # import, export, retry: clients of the HTTP API
    for name, subparser in commands.choices.items():
        end_with_settings(subparser, name)
    return parser


def end_with_settings(parser: argparse.ArgumentParser, command: str) -> None:
    """Each command's --help (its subcommands' too) ends with the settings it reads, from their
    one declaration in shared.settings."""
    parser.epilog = settings_help(command)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subcommand in action.choices.values():
                end_with_settings(subcommand, command)


_SERVER_ERRORS = {"asyncpg": "PostgreSQL", "redis": "Redis"}

COMMANDS = {
    "run": cmd_run,
    "gateway": cmd_gateway,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "token": cmd_token,
    "status": cmd_status,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    prog = f"brickyard {args.command}"
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        # One line naming each bad variable: an operator's typo is not a crash.
        print(f"{prog}: invalid settings: {error}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](settings, args)
    except (OSError, asyncpg.PostgresError, redis.exceptions.RedisError) as error:
        # A server that is down, refuses the login or lacks the database, at start-up: one
        # line for the operator; BRICKYARD_LOG_LEVEL=debug shows the traceback as well.
        if settings.log_level == "debug":
            raise
        server = outage_of(error) or _SERVER_ERRORS.get(type(error).__module__.partition(".")[0])
        where = f"{server}: " if server else ""
        print(f"{prog}: {where}{error or type(error).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
