"""``brickyard status``: queue depth, jobs by state and the live workers, much as ``rq info``.

With ``BRICKYARD_DATABASE_URL`` and ``BRICKYARD_REDIS_URL`` set it reads both servers itself.
Without them (``make run``'s embedded servers listen on ports only the supervisor knows) it asks
the running gateway's ``GET /admin/status``, with a token that has the ``operator`` scope.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import urllib.error
import urllib.request
from typing import Any

from shared.settings import Settings

TOKEN_ENV = "BRICKYARD_TOKEN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument(
        "--token",
        default=None,
        help=f"an 'operator' token, to ask the gateway when the server URLs are unset "
        f"(default: ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--gateway", default=None, help="the gateway's URL (default: BRICKYARD_PUBLIC_URL)"
    )


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
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        raise SystemExit(
            "brickyard status: set BRICKYARD_DATABASE_URL and BRICKYARD_REDIS_URL, or pass "
            f"--token (or set {TOKEN_ENV}) with the 'operator' scope to ask the gateway"
        )
    url = (args.gateway or settings.public_url).rstrip("/") + "/admin/status"
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

    if settings.database_url and settings.redis_url:
        data = asyncio.run(_read_servers(settings))
    else:
        data = _ask_gateway(settings, args)
    print(json.dumps(data, indent=2) if args.json else format_status(data))
    return 1 if data.get("unavailable") else 0
