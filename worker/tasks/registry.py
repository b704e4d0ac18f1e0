"""Jobs of the Synapse-compatible schema registry; the work is in ``shared.registry``."""

from shared.jobs.runner import JobKind
from shared.registry import (
    CREATE_SCHEMA_KIND,
    VALIDATION_SCHEMA_KIND,
    parse_create_request,
    parse_validation_request,
    run_create_schema,
    run_get_validation_schema,
)

KINDS = (
    JobKind(CREATE_SCHEMA_KIND, parse_create_request, run_create_schema),
    JobKind(VALIDATION_SCHEMA_KIND, parse_validation_request, run_get_validation_schema),
)
