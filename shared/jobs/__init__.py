"""The job core: every asynchronous operation is a durable row in Postgres plus an arq job in Redis."""

from shared.jobs.model import JobRecord, JobState
from shared.jobs.runner import JobContext, JobKind
from shared.jobs.service import JobService
from shared.jobs.waiter import JobWaiter

__all__ = ["JobContext", "JobKind", "JobRecord", "JobService", "JobState", "JobWaiter"]
