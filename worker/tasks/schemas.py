"""Apollo schema service jobs."""

from shared.jobs.runner import JobKind
from shared.schemas.sync import KIND, run_sync

KINDS = [JobKind(KIND, run_sync)]
