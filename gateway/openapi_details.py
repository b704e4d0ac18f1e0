"""What the router cannot tell about a route: its query parameters, headers and success
codes (bodies: :mod:`gateway.openapi_bodies`), keyed by handler (``module.function``, see :func:`gateway.openapi.handler_key`).

A route missing here is still documented (path, method, scope, path parameters); a key here that names no registered handler fails ``tests/integration/test_openapi.py``.
"""

from __future__ import annotations

from typing import Any

Parameter = dict[str, Any]


def query(name: str, schema: dict[str, Any], description: str = "") -> Parameter:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def header(name: str, schema: dict[str, Any], description: str = "") -> Parameter:
    return {"name": name, "in": "header", "schema": schema, "description": description}


FLAG = {"type": "string", "enum": ["true", "false"]}
TEXT = {"type": "string"}

IDEMPOTENCY = header(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    "Makes a retry safe: the same key and request within 24 h answer with the first job",
)
PAGE = [
    query("size", {"type": "integer", "minimum": 1}, "Page size"),
    header("PageSize", {"type": "integer", "minimum": 1}, "Page size, if no size parameter"),
    header("continuationToken", TEXT, "The previous page's paging.continuationToken"),
    query("continuationToken", TEXT, "The same token as a query parameter (not both)"),
]
SYSTEM_DATA = query("includeSystemData", FLAG, "Include system fields (created by, etc.)")
ER_COLLECTION = header("ercollectionid", TEXT, "The ER collection")
ASYNC = header("async", FLAG, "true: answer 202 with a job token instead of waiting")
JOB_STARTED = {"201": "The job is recorded and queued: its token"}
JOB_STATUS = {
    "200": "The job's result (COMPLETE)",
    "202": "The job's status while it runs",
    "409": "The job was cancelled",
    "504": "The job timed out",
}
# The graph pages page with `first` (size) and `after` (the last continuationToken).
GRAPH_PAGE = [
    ER_COLLECTION,
    header("first", {"type": "integer", "minimum": 1}, "Page size"),
    header("after", TEXT, "The previous page's continuationToken (0 or empty: the first page)"),
    query("continuationToken", TEXT, "The same token as a query parameter (not both)"),
]
GRAPH_READ = [*GRAPH_PAGE, SYSTEM_DATA]
EXPAND = query("$expand", TEXT, "rType:{type|ALL}($expand=eType:{type|ALL}(...))")
GRAPH_READS = ("graph_relationships", "graph_relationships_of_type", "graph_relationships_query")
GRAPH_EXPANDS = ("graph_entities", "graph_entities_of_type", "graph_entities_query")

PARAMETERS: dict[str, list[Parameter]] = {
    "core.start_selftest": [query("wait", FLAG, "Wait for the job's outcome"), IDEMPOTENCY],
    "synapse.get_organization": [query("name", TEXT, "The organization's name")],
    "synapse.start_create_schema": [IDEMPOTENCY],
    "synapse.start_validation_schema": [IDEMPOTENCY],
    "apollo_schema.list_collections": PAGE,
    "apollo_schema.sync": [ASYNC, IDEMPOTENCY],
    "apollo_er.list_collections": PAGE,
    "apollo_er.upsert_entities": [ER_COLLECTION, ASYNC, IDEMPOTENCY],
    "apollo_er.upsert_relationships": [ER_COLLECTION, ASYNC, IDEMPOTENCY],
    "apollo_er_reads.list_handler": [ER_COLLECTION, SYSTEM_DATA, *PAGE],
    "apollo_er_reads.item_handler": [ER_COLLECTION, SYSTEM_DATA],
    "apollo_er_reads.versions_handler": [ER_COLLECTION, SYSTEM_DATA, *PAGE],
    "status_logs.get_logs": [ER_COLLECTION, *PAGE],
    "er_file_entities.upload": [
        header("ercollectionid", TEXT, "Also keep the file as an entity of this ER collection"),
        header("fileDescription", TEXT, "The file entity's file_description"),
    ],
    "er_file_entities.get_file_entity": [ER_COLLECTION, SYSTEM_DATA],
    "apollo_er_delete.delete_entity_route": [
        ER_COLLECTION,
        query("cascade", FLAG, "Also delete the relationships that reference the entity"),
    ],
    "apollo_er_delete.delete_relationship_route": [ER_COLLECTION],
    "apollo_changefeed.changefeed_logs": [
        header("erCollectionId", TEXT, "The ER collection whose feed to read"),
        query("startSequenceId", {"type": "integer", "minimum": 0}, "From this sequence id"),
        query("endSequenceId", {"type": "integer", "minimum": 0}, "Up to this sequence id"),
        query("startTime", TEXT, "ISO-8601; no offset means UTC"),
        query("endTime", TEXT, "ISO-8601; no offset means UTC"),
        query("limit", {"type": "integer", "minimum": 1}, "Page size"),
        header("continuationToken", TEXT, "The previous page's paging.continuationToken"),
        query("continuationToken", TEXT, "The same token as a query parameter (not both)"),
        header("Last-Event-ID", TEXT, "With Accept: text/event-stream, resume after this id"),
    ],
    **{f"apollo_graph.{name}": GRAPH_READ for name in GRAPH_READS},
    **{f"apollo_graph.{name}": [*GRAPH_READ, EXPAND] for name in GRAPH_EXPANDS},
    "apollo_graph.graph_reachable": [
        *GRAPH_READ,
        query("relationshipType", TEXT, "Comma-separated type ids, NS__relation or relations"),
        query("direction", {"type": "string", "enum": ["out", "in"]}, "Default out"),
        query("maxDepth", {"type": "integer", "minimum": 1, "maximum": 100}, "Default 10"),
    ],
    "apollo_graph.graph_search_entities": GRAPH_PAGE,
    "apollo_graph.graph_search_relationships": GRAPH_PAGE,
    "apollo_er_sparql.sparql_get": [
        query("query", TEXT, "A SPARQL 1.1 query (read-only)"),
        query("timeout", {"type": "number", "exclusiveMinimum": 0, "maximum": 10}, "Seconds"),
    ],
    "apollo_er_sparql.sparql_post": [
        query("timeout", {"type": "number", "exclusiveMinimum": 0, "maximum": 10}, "Seconds"),
    ],
    "apollo_ontology.post_graph": [
        header("schemaCollection", TEXT, "The schema collection whose graph to (re)build"),
    ],
    "apollo_ontology.of_entity_type": [
        query(
            "$filter",
            {"type": "string", "enum": ["destEntityType", "sourceEntityType"]},
            "Also accepted in the path: {entityType}($filter=destEntityType)",
        ),
    ],
    "apollo_ontology.of_relationship_type": [ER_COLLECTION],
}

SUCCESS: dict[str, dict[str, str]] = {
    "core.healthz": {"200": "The process is alive"},
    "core.readyz": {"200": "Ready", "503": "PostgreSQL, Redis or a migration is not ready"},
    "core.get_job": JOB_STATUS,
    "core.start_selftest": {**JOB_STARTED, "200": "With wait=true: the result"},
    "core.cancel_job": {
        "200": "Already cancelled",
        "202": "The job stops at its next step",
        "409": "The job had already ended",
    },
    "synapse.start_create_schema": JOB_STARTED,
    "synapse.start_validation_schema": JOB_STARTED,
    "synapse.get_create_schema": {"201": "The response", "202": "The job's status while it runs"},
    "synapse.get_validation_schema": {
        "201": "The response",
        "202": "The job's status while it runs",
    },
    "apollo_er.upsert_entities": {"202": "Accepted (async)", "207": "Every item's outcome"},
    "apollo_er.upsert_relationships": {"202": "Accepted (async)", "207": "Every item's outcome"},
    "apollo_ontology.post_graph": {
        "202": "Queued: Location and statusUrl poll the job, whose result is "
        '{"result": 1, "message": "Total number of Ontologies Posted:  N.", "errorInfo": [...]}'
    },
    "apollo_ontology.of_entity_type": {
        "200": "data: ontology objects, each {id, brickMetadata, <relationship type id>: "
        "{id, brickMetadata, brickRelationshipType, <destination type id>: {id, brickMetadata}}}"
    },
    "apollo_ontology.of_relationship_type": {
        "200": "data: every ontology object of the same Brick relation, shaped as above"
    },
    "operations.metrics": {"200": "Prometheus text exposition"},
    "operations.admin_status": {"200": "The cluster's status"},
    "operations.openapi": {"200": "This document"},
    "operations.docs": {"200": "An HTML page"},
}
