"""A synchronous batch's writes as one statement: the upsert of its rows, every item's whole
status-log record and its completed job (migration 046). Sent outside a transaction block, it
commits or fails as one, and costs one round trip instead of five (begin, logs, rows, job,
commit).

The upsert may skip a row (a concurrent batch created it with another type or other derived
fields); the records and the job's answer were built before, believing it written, so the
statement then fails with SQLSTATE ``BY001`` and writes nothing: the caller runs the batch the
older way, in a transaction (``shared/er/batches.py``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import asyncpg

from shared.er.store.upserts import COLLECTION_HELD, UPSERT_BODIES
from shared.jobs.store import INSERT_COMPLETED_JOB_ROW
from shared.statuslog.store import INSERT_OUTCOMES

NOT_ALL_WRITTEN = "BY001"
_PARAMETER = re.compile(r"\$(\d+)")


def _parameters(sql: str) -> int:
    return max(int(number) for number in _PARAMETER.findall(sql))


def _shifted(sql: str, by: int) -> str:
    """``sql`` with its parameters renumbered from ``by + 1``, to follow another statement's."""
    return _PARAMETER.sub(lambda found: f"${int(found[1]) + by}", sql)


@cache
def batch_statement(item_kind: str) -> str:
    """The statement for one kind: the upsert's parameters first, then INSERT_OUTCOMES', then
    INSERT_COMPLETED_JOB_ROW's, then the number of rows the upsert must write."""
    upsert = UPSERT_BODIES[item_kind]
    rows_end = _parameters(upsert)
    logs_end = rows_end + _parameters(INSERT_OUTCOMES)
    job_end = logs_end + _parameters(INSERT_COMPLETED_JOB_ROW)
    return f"""
WITH {COLLECTION_HELD},
written AS ({upsert}),
logged AS ({_shifted(INSERT_OUTCOMES, rows_end)}),
job AS ({_shifted(INSERT_COMPLETED_JOB_ROW, logs_end)})
SELECT er_all_written((SELECT count(*) FROM written), ${job_end + 1})
"""


async def write_batch(
    conn: asyncpg.Connection,
    item_kind: str,
    upsert_args: list[Any],
    outcome_args: list[Any],
    job_args: list[Any],
    row_count: int,
) -> bool:
    """Write everything, or nothing and False if the upsert would have skipped a row."""
    try:
        await conn.execute(
            batch_statement(item_kind), *upsert_args, *outcome_args, *job_args, row_count
        )
    except asyncpg.PostgresError as error:
        if error.sqlstate == NOT_ALL_WRITTEN:
            return False
        raise
    return True
