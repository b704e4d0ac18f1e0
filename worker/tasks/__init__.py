"""The job kinds a worker runs, one thin entry per kind, grouped by API family.

Each names the service in ``shared`` that does the work, and what settles a job that ends
without a result (for ER batches: their unfinished items).
"""

from shared.jobs.runner import JobKind
from worker.tasks import core, er, registry, schemas

ALL_KINDS: dict[str, JobKind] = {
    kind.name: kind for kind in (*core.KINDS, *registry.KINDS, *schemas.KINDS, *er.KINDS)
}
