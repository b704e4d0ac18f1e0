"""SQL the operator views read."""

from __future__ import annotations

import asyncpg

# Every job ever recorded: finished ones too, so that the counts agree with the API. A scan of
# the jobs table; statement_timeout keeps a huge one from holding a scrape.
JOBS_BY_KIND_AND_STATE = """
SELECT kind, state, count(*) AS jobs FROM jobs GROUP BY kind, state ORDER BY kind, state
"""
SCRAPE_STATEMENT_TIMEOUT = "5s"


async def jobs_by_kind_and_state(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"SET LOCAL statement_timeout = '{SCRAPE_STATEMENT_TIMEOUT}'")
        rows = await conn.fetch(JOBS_BY_KIND_AND_STATE)
    return {(row["kind"], row["state"]): row["jobs"] for row in rows}
