"""Each API family's routes, in a module of its own."""

from gateway.routes import (
    apollo_changefeed,
    apollo_er,
    apollo_er_delete,
    apollo_er_reads,
    apollo_er_sparql,
    apollo_graph,
    apollo_schema,
    apollo_schema_rules,
    apollo_schema_types,
    core,
    dashboard,
    dashboard_apollo,
    dashboard_collection,
    er_files,
    export,
    failed_items,
    jobs_list,
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
    apollo_er_delete.routes,
    apollo_changefeed.routes,
    apollo_graph.routes,
    apollo_er_sparql.routes,
    status_logs.routes,
    export.routes,
    failed_items.routes,
    jobs_list.routes,
    dashboard.routes,
    dashboard_apollo.routes,
    dashboard_collection.routes,
    er_files.routes,
]
# Per-process state some route families keep (started after the services, stopped before).
ROUTE_CONTEXTS = [apollo_changefeed.changefeed_ctx, apollo_er_sparql.sparql_ctx]
