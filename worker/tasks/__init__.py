"""The job kinds a worker runs, one thin entry per kind, grouped by API family.

Each names the service in ``shared`` that does the work, and what settles a job that ends
without a result (for ER batches: their unfinished items).
"""

from typing import Any

from shared.jobs.runner import JobKind
from worker.tasks import core, er, registry, schemas

# Each family's tuple keeps every kind's request type, so mypy checks that a kind's parser
# gives what its handler and failure hook take.
_KINDS: tuple[JobKind[Any], ...] = (*core.KINDS, *registry.KINDS, *schemas.KINDS, *er.KINDS)
ALL_KINDS: dict[str, JobKind[Any]] = {kind.name: kind for kind in _KINDS}
