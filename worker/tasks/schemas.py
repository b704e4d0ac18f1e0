"""Apollo schema service jobs."""

from shared.jobs.runner import JobKind
from shared.ontology.service import ENTITY_KIND, RELATIONSHIP_KIND, run_build
from shared.schemas.sync import KIND, run_sync

KINDS = [
    JobKind(KIND, run_sync),
    JobKind(ENTITY_KIND, run_build),
    JobKind(RELATIONSHIP_KIND, run_build),
]
