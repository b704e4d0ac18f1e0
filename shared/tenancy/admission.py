"""Queued work per principal, checked in the transaction that records a job (docs/jobs.md).

A principal past :attr:`Settings.unfinished_jobs_per_principal` or
:attr:`Settings.queued_items_per_principal` gets :class:`TooManyRequests` (429): it is raised
inside the recording transaction, so a refused job leaves no job row and no staged items.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import structlog

from shared.errors import TooManyRequests
from shared.observability.metrics import count_throttled, principal_bucket
from shared.settings import Settings
from shared.tenancy import store

log = structlog.get_logger(__name__)

# Queued work drains at the workers' pace, which admission cannot know: long enough for some
# of it to finish, short enough that a client polling its own jobs is not kept waiting long.
QUEUE_RETRY_AFTER_S = 5

JOBS_LIMIT = "unfinished_jobs"
ITEMS_LIMIT = "queued_items"


@dataclass(frozen=True, slots=True)
class Admission:
    """A job's admission as its ``stage``: the job service, which knows it by its type, folds
    its lock and count into the job's insert (``shared.jobs.store.insert_admitted``)."""

    settings: Settings
    principal_id: int
    items: int = 1

    async def __call__(self, conn: asyncpg.Connection, job_token: str) -> None:
        await admit(conn, self.settings, self.principal_id, job_token, self.items)

    def refuse_if_over(self, queued: store.Queued) -> None:
        """Raise 429 if the job would take its principal past a limit, ``queued`` being the
        principal's queued work without it."""
        settings = self.settings
        if queued.jobs + 1 > settings.unfinished_jobs_per_principal:
            refuse(
                self.principal_id,
                JOBS_LIMIT,
                f"At most {settings.unfinished_jobs_per_principal} jobs per principal may be "
                f"unfinished at once and {queued.jobs} are; try again when some have finished",
            )
        if queued.items + self.items > settings.queued_items_per_principal:
            refuse(
                self.principal_id,
                ITEMS_LIMIT,
                f"At most {settings.queued_items_per_principal} items per principal may be "
                f"queued at once; {queued.items} are and this request brings {self.items}",
            )


async def admit(
    conn: asyncpg.Connection, settings: Settings, principal_id: int, job_token: str, items: int
) -> None:
    """Refuse the job being recorded as ``job_token`` (bringing ``items`` queued items) if it
    would take its principal past a limit. ``conn`` is in the recording transaction."""
    queued = await store.lock_and_count(conn, principal_id, job_token)
    Admission(settings, principal_id, items).refuse_if_over(queued)


def refuse(principal_id: int, limit: str, message: str) -> None:
    count_throttled(principal_id, limit)
    log.info(
        "request over a principal's limit",
        principal_id=principal_id,
        principal_bucket=principal_bucket(principal_id),
        limit=limit,
    )
    raise TooManyRequests(message, retry_after_s=QUEUE_RETRY_AFTER_S)


def admitting(settings: Settings, principal_id: int, items: int = 1) -> Admission:
    """:func:`admit` as a job's ``stage``, for a job that stages nothing of its own."""
    return Admission(settings, principal_id, items)
