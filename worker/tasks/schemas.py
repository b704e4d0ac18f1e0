"""Apollo schema service jobs."""

from shared.jobs.runner import JobKind
from shared.ontology.service import ENTITY_KIND, RELATIONSHIP_KIND, parse_build_request, run_build
from shared.schemas.sync import KIND, parse_job_request, run_sync

KINDS = (
    JobKind(KIND, parse_job_request, run_sync),
    JobKind(ENTITY_KIND, parse_build_request, run_build),
    JobKind(RELATIONSHIP_KIND, parse_build_request, run_build),
)
