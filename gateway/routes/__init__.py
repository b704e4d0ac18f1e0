"""Each API family's routes, in a module of its own."""

from gateway.routes import (
    apollo_er,
    apollo_er_reads,
    apollo_schema,
    apollo_schema_rules,
    apollo_schema_types,
    core,
    status_logs,
    synapse,
)

ALL_ROUTES = [
    core.routes,
    synapse.routes,
    apollo_schema.routes,
    apollo_schema_types.routes,
    apollo_schema_rules.routes,
    apollo_er.routes,
    apollo_er_reads.routes,
    status_logs.routes,
]
