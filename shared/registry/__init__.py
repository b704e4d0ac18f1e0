"""The Synapse-compatible JSON schema registry: organizations, schemas, versions, bundling."""

from shared.registry.create import parse_create_request, run_create_schema
from shared.registry.organizations import OrganizationService
from shared.registry.schemas import (
    SchemaService,
    parse_validation_request,
    run_get_validation_schema,
)

CREATE_SCHEMA_KIND = "create_json_schema"
VALIDATION_SCHEMA_KIND = "get_validation_schema"

__all__ = [
    "CREATE_SCHEMA_KIND",
    "VALIDATION_SCHEMA_KIND",
    "OrganizationService",
    "SchemaService",
    "parse_create_request",
    "parse_validation_request",
    "run_create_schema",
    "run_get_validation_schema",
]
