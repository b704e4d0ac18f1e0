"""The wire shapes of the API's request and response bodies, as TypedDicts.

They are the one description of each body: :mod:`gateway.openapi_types` derives the OpenAPI
document's JSON Schema from them, and the parsers that return a request (e.g.
:func:`shared.jobs.selftest.parse_request`) are typed with the same names. A parser still
decides what it accepts (a 400 names the exact problem); a test checks that the README's curl
bodies fit these shapes and that the fuzzer's conforming bodies never make a route fail.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

from shared.jobs.selftest import SelftestRequest

__all__ = ["SelftestRequest"]

NonEmpty = Annotated[str, {"minLength": 1}]
Principal = Annotated[str, {"minLength": 1, "maxLength": 200}]


# Jobs ------------------------------------------------------------------------------------------


class JobToken(TypedDict):
    """A job recorded and queued: poll its token."""

    token: str


class JobStatus(TypedDict):
    """Synapse's AsynchronousJobStatus: the status of a job in every family."""

    concreteType: str
    jobId: str
    jobState: Literal["PROCESSING", "COMPLETE", "FAILED", "CANCELLED"]
    jobCanceling: bool
    kind: str
    startedByUserId: int
    startedOn: str
    changedOn: str
    progressCurrent: int | None
    progressTotal: int | None
    progressMessage: str | None
    requestBody: Any
    runtimeMS: int | None
    etag: str
    errorMessage: NotRequired[str | None]
    errorDetails: NotRequired[Any]


class SelftestResult(TypedDict):
    echo: str
    attempts: int


# Synapse -----------------------------------------------------------------------------------------


class CreateOrganizationRequest(TypedDict):
    organizationName: NonEmpty


class Organization(TypedDict):
    id: str
    name: str
    createdOn: str
    createdBy: str


class PageTokenRequest(TypedDict):
    nextPageToken: NotRequired[str]


class ListJsonSchemaInfoRequest(TypedDict):
    organizationName: NonEmpty
    nextPageToken: NotRequired[str]


class ListJsonSchemaVersionInfoRequest(TypedDict):
    organizationName: NonEmpty
    schemaName: NonEmpty
    nextPageToken: NotRequired[str]


class ResourceAccess(TypedDict):
    principalId: int
    accessType: list[Literal["CREATE", "READ", "UPDATE", "DELETE", "CHANGE_PERMISSIONS"]]


class AccessControlList(TypedDict):
    """An organization's ACL; send back the etag you read (optimistic locking)."""

    id: NotRequired[str]
    etag: str
    resourceAccess: list[ResourceAccess]
    creationDate: NotRequired[str]
    modifiedOn: NotRequired[str]


class CreateSchemaRequest(TypedDict):
    concreteType: Literal["org.sagebionetworks.repo.model.schema.CreateSchemaRequest"]
    schema: dict[str, Any]
    dryRun: NotRequired[bool]


GetValidationSchemaRequest = TypedDict(
    "GetValidationSchemaRequest",
    {
        "concreteType": Literal["org.sagebionetworks.repo.model.schema.GetValidationSchemaRequest"],
        "$id": NonEmpty,
    },
)


class OrganizationPage(TypedDict):
    page: list[Organization]
    nextPageToken: NotRequired[str]


class SchemaPage(TypedDict):
    page: list[dict[str, Any]]
    nextPageToken: NotRequired[str]


class CreateSchemaResponse(TypedDict):
    concreteType: str
    newVersionInfo: dict[str, Any]
    validationSchema: dict[str, Any]


class UserProfile(TypedDict):
    ownerId: str
    userName: str
    displayName: str


# Apollo schema service -----------------------------------------------------------------------


class CreateSchemaCollectionRequest(TypedDict):
    """A schema collection following a release line (Brick unless named), pinned to ``release``
    (or ``latest``: follow the newest)."""

    schemaCollectionId: Annotated[str, {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"}]
    releaseLine: NotRequired[NonEmpty]
    release: NotRequired[NonEmpty]


class SyncRequest(TypedDict):
    schemaType: Literal["entitytypes", "relationshiptypes"]
    schemaCollectionId: str
    version: NotRequired[str]


class Grant(TypedDict):
    principal: Principal
    role: str


class GrantList(TypedDict):
    """The whole access list: each principal once, with its role (an owner must remain)."""

    grants: list[Grant]


class ReleaseBundle(TypedDict):
    """A release an administrator publishes: its entity and relationship types and tags."""

    releaseLine: str
    version: str
    entitytypes: NotRequired[list[dict[str, Any]]]
    relationshiptypes: NotRequired[list[dict[str, Any]]]
    tags: NotRequired[list[str]]


class HierarchyNode(TypedDict):
    id: NonEmpty
    children: NotRequired[list[HierarchyNode]]


class OntologyCheckRequest(TypedDict):
    """A relationship and, optionally, the entities at its ends, checked against the rules."""

    relationshipObj: dict[str, Any]
    sourceEntityObj: NotRequired[dict[str, Any]]
    destinationEntityObj: NotRequired[dict[str, Any]]


TypeSchema = dict[str, Any]  # an Apollo type schema: JSON Schema with Apollo's annotations


# Apollo ER service ---------------------------------------------------------------------------


class RegisterErCollectionRequest(TypedDict):
    erCollectionId: NonEmpty
    schemaCollectionId: NonEmpty


class Entity(TypedDict):
    """An entity; any further properties are checked against its entity type's schema."""

    id: NonEmpty
    entityType: NonEmpty
    entityName: NotRequired[str]


class Relationship(TypedDict):
    """A relationship; the ER collection ids name the ends' collections when they differ."""

    id: NonEmpty
    relationshipType: NonEmpty
    sourceEntityId: NonEmpty
    destinationEntityId: NonEmpty
    relationshipName: NotRequired[str]
    sourceERCollectionId: NotRequired[str]
    destinationERCollectionId: NotRequired[str]


class FailedItemKey(TypedDict):
    transactionId: NonEmpty
    id: NonEmpty


class RetryFailuresRequest(TypedDict):
    """The items a failures file names (the dashboard's download or an import's own)."""

    items: list[FailedItemKey]


class ImportSummary(TypedDict):
    """What ``brickyard import`` reports when it ends, for the dashboard's Imports page."""

    kind: Literal["entities", "relationships", "brick"]
    erCollectionId: NonEmpty
    source: NonEmpty
    summary: dict[str, Any]
    refusalsByReason: NotRequired[dict[str, int]]
    transactions: NotRequired[list[str]]


class GraphSearchRequest(TypedDict):
    """An Elasticsearch-style bool query over the collection's items."""

    query: dict[str, Any]


# Error bodies ----------------------------------------------------------------------------------


class SynapseError(TypedDict):
    """Synapse's ErrorResponse."""

    concreteType: NotRequired[str]
    reason: str


class ApolloStatus(TypedDict):
    message: str
    code: str


class ApolloEnvelope(TypedDict):
    """Every Apollo answer, errors included: status, transactionId, paging, data."""

    status: ApolloStatus
    transactionId: str | None
    paging: dict[str, Any] | None
    data: Any


class ErrorDetail(TypedDict):
    status: int
    message: str


class Error(TypedDict):
    """The error body outside the Synapse and Apollo families."""

    error: ErrorDetail


class SparqlForm(TypedDict):
    """The SPARQL protocol's form: the query (``update`` is refused: the endpoint is read-only)."""

    query: NonEmpty
    timeout: NotRequired[str]
