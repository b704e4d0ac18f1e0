"""Which model each route's request and response bodies are, keyed by handler
(``module.function``), with the README's curl bodies as examples.

The models are the TypedDicts of :mod:`gateway.api_models`; :mod:`gateway.openapi` turns them
into JSON Schema components. A POST or PUT handler is either in :data:`BODIES` or in
:data:`NO_BODY`, which a test checks, so a new route cannot slip in untyped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway import api_models as m

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Body:
    model: Any
    examples: tuple[Any, ...] = ()
    required: bool = True
    media_types: tuple[str, ...] = (JSON,)
    # Other media types, each with its own model (SPARQL's query text or form).
    alternatives: dict[str, Any] = field(default_factory=dict)


def one_or_many(model: Any) -> Any:
    """A batch: one item, or a list of them."""
    return model | list[model]


SCHEMA_MEDIA = (JSON, "application/schema+json")
CREATE_PERSON = {
    "concreteType": "org.sagebionetworks.repo.model.schema.CreateSchemaRequest",
    "schema": {
        "$id": "my.organization-Person",
        "type": "object",
        "properties": {"home": {"$ref": "my.organization-Address-1.0.0"}},
    },
}
CREATE_ADDRESS = {
    "concreteType": "org.sagebionetworks.repo.model.schema.CreateSchemaRequest",
    "schema": {
        "$id": "my.organization-Address-1.0.0",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
AHU = {
    "id": "ac4d999e-3798-11e8-a1af-c8e0eb18b031",
    "entityName": "AHU-1",
    "entityType": "BRICK_1_4__AHU",
}
BOILER = {
    "id": "ac4d8cd8-3798-11e8-a527-c8e0eb18b031",
    "entityName": "Boiler 2",
    "entityType": "BRICK_1_4__Boiler",
}
AHU_2 = {"id": "ahu-2", "entityName": "AHU-2", "entityType": "BRICK_1_4__AHU"}
IS_FED_BY = {
    "id": "5091e806-39b1-11e8-ae2c-c8e0eb18b031",
    "relationshipName": "test",
    "sourceEntityId": AHU["id"],
    "destinationEntityId": BOILER["id"],
    "relationshipType": "BRICK_1_4__isFedBy_Equipment_Equipment",
    "sourceERCollectionId": "august_14_81",
    "destinationERCollectionId": "august_14_8",
}
FEEDS = {
    "id": "feeds-1",
    "sourceEntityId": AHU["id"],
    "destinationEntityId": "ahu-2",
    "relationshipType": "BRICK_1_4__feeds_Equipment_Equipment",
}
GRANTS = {
    "grants": [{"principal": "alice", "role": "owner"}, {"principal": "bob", "role": "editor"}]
}
SEARCH = {"query": {"bool": {"must": [{"match": {"entityName": "AHU-1"}}]}}}
SPARQL = "SELECT ?e ?name { ?e rdf:type/rdfs:subClassOf* brick:HVAC_Equipment ; rdfs:label ?name }"

BODIES: dict[str, Body] = {
    "core.start_selftest": Body(
        m.SelftestRequest, ({"message": "hello", "sleepSeconds": 2}, {"message": "now"})
    ),
    "synapse.create_organization": Body(
        m.CreateOrganizationRequest, ({"organizationName": "my.organization"},)
    ),
    "synapse.list_organizations": Body(m.PageTokenRequest, ({},)),
    "synapse.list_schemas": Body(
        m.ListJsonSchemaInfoRequest, ({"organizationName": "my.organization"},)
    ),
    "synapse.list_schema_versions": Body(
        m.ListJsonSchemaVersionInfoRequest,
        ({"organizationName": "my.organization", "schemaName": "Person"},),
    ),
    "synapse.put_organization_acl": Body(
        m.AccessControlList,
        ({"etag": "3", "resourceAccess": [{"principalId": 1, "accessType": ["READ", "UPDATE"]}]},),
    ),
    "synapse.start_create_schema": Body(m.CreateSchemaRequest, (CREATE_ADDRESS, CREATE_PERSON)),
    "synapse.start_validation_schema": Body(
        m.GetValidationSchemaRequest,
        (
            {
                "concreteType": "org.sagebionetworks.repo.model.schema.GetValidationSchemaRequest",
                "$id": "my.organization-Person",
            },
        ),
    ),
    "apollo_schema.create_collection": Body(
        m.CreateSchemaCollectionRequest,
        ({"schemaCollectionId": "Brick_1_4", "release": "1.4"},),
        media_types=SCHEMA_MEDIA,
    ),
    "apollo_schema.put_acl": Body(m.GrantList, (GRANTS,), media_types=SCHEMA_MEDIA),
    "apollo_schema.sync": Body(
        m.SyncRequest,
        (
            {"schemaType": "entitytypes", "schemaCollectionId": "Brick_1_4"},
            {"schemaType": "entitytypes", "schemaCollectionId": "Brick_1_4", "version": "1.5"},
        ),
        media_types=SCHEMA_MEDIA,
    ),
    "apollo_schema.publish_release": Body(
        m.ReleaseBundle,
        ({"releaseLine": "acme", "version": "1.0", "entitytypes": [{"name": "Pump"}]},),
        media_types=SCHEMA_MEDIA,
    ),
    "apollo_schema_types.create_schemas": Body(one_or_many(m.TypeSchema), media_types=SCHEMA_MEDIA),
    "apollo_schema_rules.post_hierarchy": Body(
        one_or_many(m.HierarchyNode),
        ([{"id": "BRICK_1_4__Equipment", "children": [{"id": "BRICK_1_4__AHU"}]}],),
        media_types=SCHEMA_MEDIA,
    ),
    "apollo_schema_rules.validate": Body(dict[str, Any], (AHU,), media_types=SCHEMA_MEDIA),
    "apollo_schema_rules.validate_ontology": Body(
        m.OntologyCheckRequest,
        ({"relationshipObj": FEEDS, "sourceEntityObj": AHU, "destinationEntityObj": AHU_2},),
        media_types=SCHEMA_MEDIA,
    ),
    "apollo_schema_rules.save_sample": Body(dict[str, Any], (AHU,), media_types=SCHEMA_MEDIA),
    "apollo_er.register_collection": Body(
        m.RegisterErCollectionRequest,
        ({"erCollectionId": "august_14_81", "schemaCollectionId": "Brick_1_4"},),
    ),
    "apollo_er.put_acl": Body(m.GrantList, (GRANTS,)),
    "apollo_er.upsert_entities": Body(one_or_many(m.Entity), ([AHU], [BOILER], [AHU_2])),
    "apollo_er.upsert_relationships": Body(one_or_many(m.Relationship), ([IS_FED_BY], [FEEDS])),
    "apollo_graph.graph_search_entities": Body(m.GraphSearchRequest, (SEARCH,)),
    "apollo_graph.graph_search_relationships": Body(m.GraphSearchRequest),
    "apollo_er_sparql.sparql_post": Body(
        str,
        (SPARQL,),
        media_types=("application/sparql-query",),
        alternatives={"application/x-www-form-urlencoded": m.SparqlForm},
    ),
    "er_file_entities.upload": Body(str, media_types=("application/octet-stream",)),
    "failures.post_selected_retry": Body(
        m.RetryFailuresRequest, ({"items": [{"transactionId": "tx-1", "id": "ahu-1"}]},)
    ),
    "dashboard_imports.post_import": Body(
        m.ImportSummary,
        (
            {
                "kind": "entities",
                "erCollectionId": "august_14_81",
                "source": "ahus.ndjson",
                "summary": {"items": 2, "stored": 2, "refused": 0},
                "refusalsByReason": {},
                "transactions": ["tx-1"],
            },
        ),
    ),
    # Objects naming types of the collection; those that name none come back in errorInfo.
    "apollo_ontology.post_graph": Body(
        list[dict[str, Any]], ([], [{"id": "customer", "name": "customer"}]), required=False
    ),
}
# POST and PUT routes that read no body.
NO_BODY = frozenset(
    {
        "core.cancel_job",
        "apollo_schema.invalidate",
        "apollo_schema_types.publish",
        "failed_items.post_retry",
        "failures.post_group_retry",
        "failures.post_one_retry",
        "er_file_entities.get_file_entity",  # the pages' curl POSTs it with no body
    }
)

# 2xx bodies by handler (None: no body); the rest get their family's default (gateway.openapi.FAMILY_SUCCESS).
RESPONSES: dict[str, dict[str, Any]] = {
    "core.healthz": {"200": dict[str, str]},
    "core.readyz": {"200": dict[str, Any]},
    "core.get_job": {"200": Any, "202": m.JobStatus},
    "core.start_selftest": {"201": m.JobToken, "200": m.SelftestResult},
    "core.cancel_job": {"200": m.JobStatus, "202": m.JobStatus},
    "synapse.user_profile": {"200": m.UserProfile},
    "synapse.create_organization": {"201": m.Organization},
    "synapse.get_organization": {"200": m.Organization},
    "synapse.list_organizations": {"200": m.OrganizationPage},
    "synapse.get_organization_acl": {"200": m.AccessControlList},
    "synapse.put_organization_acl": {"200": m.AccessControlList},
    "synapse.start_create_schema": {"201": m.JobToken},
    "synapse.start_validation_schema": {"201": m.JobToken},
    "synapse.get_create_schema": {"201": m.CreateSchemaResponse, "202": m.JobStatus},
    "synapse.get_validation_schema": {"201": dict[str, Any], "202": m.JobStatus},
    "synapse.get_registered_schema": {"200": dict[str, Any]},
    "synapse.delete_organization": {"200": None},  # Synapse's empty 200
    "synapse.delete_registered_schema": {"204": None},
    "synapse.list_schemas": {"200": m.SchemaPage},
    "synapse.list_schema_versions": {"200": m.SchemaPage},
}
