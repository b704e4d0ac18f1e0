"""The server's secrets (``server_secrets``, made by migration 005): keys no client ever sees."""

from __future__ import annotations

from shared.db import Executor

# The key continuation tokens are signed with (shared/paging.py).
GET_PAGING_SECRET = "SELECT secret FROM server_secrets WHERE name = 'paging'"


async def paging_secret(db: Executor) -> bytes:
    return bytes(await db.fetchval(GET_PAGING_SECRET))
