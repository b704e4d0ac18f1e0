"""``brickyard status``: queue depth, jobs by state and the live workers, much as ``rq info``.

It reads both servers itself: those of ``BRICKYARD_DATABASE_URL`` and ``BRICKYARD_REDIS_URL``, or
else the embedded servers that the ``brickyard run`` using the data dir recorded there
(:mod:`shared.running`), so ``make run``'s default needs no token. Without either it asks the
gateway's ``GET /admin/status``, with a token that has the ``operator`` scope.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

from shared.running import with_running_servers
from shared.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument(
        "--token",
        default=None,
        help="an 'operator' token, to ask the gateway when no servers are known "
        "(default: BRICKYARD_TOKEN)",
    )
    parser.add_argument(
        "--url", default=None, help="the gateway (default: BRICKYARD_URL, else this host's)"
    )
    # The flag's name until issue 22 (import, export and retry say --url): kept for scripts.
    parser.add_argument("--gateway", dest="url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


async def _read_servers(settings: Settings) -> dict[str, Any]:
    # Imported here: every other `brickyard` command parses its arguments without them.
    from shared.db import create_pool
    from shared.observability.status import cluster_status
    from shared.services import create_redis

    pool = await create_pool(settings)
    redis = await create_redis(settings)
    try:
        status = await cluster_status(pool, redis, settings.queue_name)
        return status.to_json()
    finally:
        await redis.aclose()
        await pool.close()


def _ask_gateway(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    token = args.token or settings.client_token
    gateway = (args.url or settings.gateway_url).rstrip("/")
    if not token:
        raise SystemExit(
            f"brickyard status: no brickyard run uses the data dir {settings.data_dir.resolve()} "
            "(BRICKYARD_DATA_DIR) and BRICKYARD_DATABASE_URL and BRICKYARD_REDIS_URL are not both "
            "set: run it where `make run` runs, set BRICKYARD_DATA_DIR or the two URLs, or pass "
            f"--token (or set BRICKYARD_TOKEN) with the 'operator' scope to ask {gateway}"
        )
    url = gateway + "/admin/status"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:
        body = error.read()[:300].decode(errors="replace")
        raise SystemExit(f"brickyard status: {url} answered {error.code}: {body}") from None
    except OSError as error:
        raise SystemExit(f"brickyard status: cannot reach {url}: {error}") from None


def run_status(settings: Settings, args: argparse.Namespace) -> int:
    from shared.observability.status import format_status

    found = with_running_servers(settings)
    # An explicit --url asks that gateway, whatever servers this machine knows of.
    if found.database_url and found.redis_url and not args.url:
        data = asyncio.run(_read_servers(found))
    else:
        data = _ask_gateway(settings, args)
    print(json.dumps(data, indent=2) if args.json else format_status(data))
    return 1 if data.get("unavailable") else 0
