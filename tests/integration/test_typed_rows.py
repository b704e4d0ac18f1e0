"""Each typed row (the rows.py of each store's package, shared/grants.py's GrantRow) fits the
statements read into it: the columns each statement gives are fields of its row, and every
field without a default is among them. A column added to a statement, or renamed, fails here
rather than as a TypeError on the first read that finds a row. Statements are only prepared:
no data is needed."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared.auth import store as auth_store
from shared.auth.rows import LiveToken, TokenInfo
from shared.changefeed import store as changefeed_store
from shared.changefeed.rows import FeedEvent
from shared.er.filters import ListQuery
from shared.er.rows import (
    AroundEdge,
    BrickType,
    CollectionRole,
    EntityLine,
    EntityTypeCount,
    FailedItem,
    Failure,
    FailureGroup,
    GraphItemRow,
    ItemKey,
    ItemRow,
    RelationshipLine,
    RelationshipTypeCount,
    SchemaPlace,
    Writer,
)
from shared.er.store import browse as browse_store
from shared.er.store import collections as er_collections_store
from shared.er.store import deletes as deletes_store
from shared.er.store import failed as failed_store
from shared.er.store import files as files_store
from shared.er.store import reads as reads_store
from shared.er.tables import ENTITIES, RELATIONSHIPS
from shared.grants import GrantRow
from shared.graph import store as graph_store
from shared.graph.rows import ExpansionPath, ReachStep
from shared.imports import store as imports_store
from shared.imports.rows import ImportSummaryRow, RecordedImport
from shared.observability import store as observability_store
from shared.observability.rows import FinishedInMinute, QueueAtMinute, RunTimes
from shared.ontology import store as ontology_store
from shared.ontology.rows import ActiveType, Freshness, OntologyObjectRow
from shared.releases import store as releases_store
from shared.releases.rows import ReleaseRow
from shared.schemas.rows import (
    CurrentSchema,
    CurrentVersion,
    NewSchemaCollection,
    SchemaCollectionRow,
    SchemaTypeCounts,
    TypeMetadata,
    TypeSchemaRow,
)
from shared.schemas.store import collections as schema_collections_store
from shared.schemas.store import grants as schema_grants_store
from shared.schemas.store import lists as lists_store
from shared.schemas.store import typeschemas as typeschemas_store
from shared.services import Services
from shared.statuslog import store as statuslog_store
from shared.statuslog.rows import StatusRecord, TransactionItem


def _item_statements() -> list[tuple[str, type[Any]]]:
    statements: list[tuple[str, type[Any]]] = []
    for table in (ENTITIES, RELATIONSHIPS):
        extra = ", NULL AS destination_collection_id" if table is RELATIONSHIPS else ""
        where = reads_store._list_where(table, ListQuery())
        numbers = {"after": 3, "limit": 4}
        statements += [
            (reads_store._of(reads_store.GET_ITEM, table), ItemRow),
            (reads_store._of(reads_store.VERSIONS, table, history_extra=extra), ItemRow),
            (reads_store._of(reads_store.PAGE_BY_ID, table, where=where, **numbers), ItemRow),
            (
                reads_store._of(
                    reads_store.PAGE_BY_DISTANCE,
                    table,
                    where=where,
                    distance="0::float8",
                    direction="ASC",
                    beyond=">",
                    **numbers,
                ),
                ItemRow,
            ),
            (graph_store.search(table, "true", []).page, GraphItemRow),
        ]
    return statements


STATEMENTS: list[tuple[str, type[Any]]] = [
    *_item_statements(),
    (reads_store.ENTITY_TYPE_COUNTS, EntityTypeCount),
    (reads_store.RELATIONSHIP_TYPE_COUNTS, RelationshipTypeCount),
    (reads_store.SYSTEM_DATA, Writer),
    (reads_store.SCHEMA_METADATA, SchemaPlace),
    (reads_store.TYPES, BrickType),
    (reads_store.ENTITY_PAGE, EntityLine),
    (reads_store.RELATIONSHIP_PAGE, RelationshipLine),
    (files_store.FILE_ENTITIES, ItemRow),
    (graph_store.PAGE_ENTITIES, GraphItemRow),
    (graph_store.PAGE_RELATIONSHIPS, GraphItemRow),
    (graph_store.ENTITIES_BY_KEYS, GraphItemRow),
    (graph_store.RELATIONSHIPS_BY_KEYS, GraphItemRow),
    (typeschemas_store.GET_TYPE, TypeSchemaRow),
    (typeschemas_store.CURRENT_IN_COLLECTION, CurrentVersion),
    (typeschemas_store.CURRENT_ENTITY_TYPES, TypeMetadata),
    (typeschemas_store.CURRENT_RELATIONSHIP_TYPES, TypeMetadata),
    (lists_store.PAGE_ALL, TypeSchemaRow),
    (lists_store.PAGE_ACTIVE_VERSIONS, TypeSchemaRow),
    (lists_store.PAGE_VERSIONS, TypeSchemaRow),
    (lists_store.PAGE_TAGGED, TypeSchemaRow),
    (browse_store.SEARCH_ENTITIES, EntityLine),
    (browse_store.ENTITY, EntityLine),
    (browse_store.AROUND, AroundEdge),
    (er_collections_store.INSERT_COLLECTION, CollectionRole),
    (er_collections_store.FIND_WITH_ROLE, CollectionRole),
    (er_collections_store.LIST_FOR_PRINCIPAL, CollectionRole),
    (er_collections_store.CURRENT_GRANTS, GrantRow),
    (failed_store.FAILED_ITEMS, FailedItem),
    (failed_store.FAILURE_GROUPS, FailureGroup),
    (failed_store.FAILURES, Failure),
    (failed_store.ONE_FAILURE, Failure),
    (failed_store.SELECTED_FAILURES, Failure),
    (deletes_store.LOCK_REFERENCES, ItemKey),
    (schema_collections_store.INSERT_COLLECTION, NewSchemaCollection),
    (schema_collections_store.GET_COLLECTION, SchemaCollectionRow),
    (schema_collections_store.PAGE_COLLECTIONS, SchemaCollectionRow),
    (schema_collections_store.COLLECTION_STATS, SchemaTypeCounts),
    (graph_store.EXPAND, ExpansionPath),
    (graph_store.STEP_OUT, ReachStep),
    (graph_store.STEP_IN, ReachStep),
    (schema_grants_store.CURRENT_GRANTS, GrantRow),
    (auth_store.FIND_LIVE_TOKEN, LiveToken),
    (auth_store.LIST_TOKENS, TokenInfo),
    (changefeed_store.PAGE, FeedEvent),
    (imports_store.INSERT_SUMMARY, RecordedImport),
    (imports_store.RECENT_SUMMARIES, ImportSummaryRow),
    (observability_store.THROUGHPUT, FinishedInMinute),
    (observability_store.QUEUE_OVER_TIME, QueueAtMinute),
    (observability_store.RUN_TIME_BY_KIND, RunTimes),
    (ontology_store.ACTIVE_TYPES, ActiveType),
    (ontology_store.FRESHNESS, Freshness),
    (ontology_store.INHERITED, OntologyObjectRow),
    (ontology_store.OF_RELATION, OntologyObjectRow),
    (releases_store.GET_RELEASE, ReleaseRow),
    (releases_store.LIST_RELEASES, ReleaseRow),
    (statuslog_store.TRANSACTION, TransactionItem),
    (
        statuslog_store.PAGE.format(where=statuslog_store.where({})[0], after=2, limit=3),
        StatusRecord,
    ),
]


def misfits(columns: list[str], row_type: type[Any]) -> list[str]:
    """What keeps ``row_type(**row)`` from taking every row of a statement of ``columns``."""
    fields = dataclasses.fields(row_type)
    names = {f.name for f in fields}
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    return [f"column {c} is no field" for c in columns if c not in names] + [
        f"field {f} is no column" for f in sorted(required - set(columns))
    ]


def test_misfits_are_named() -> None:
    assert misfits(["type_id", "n", "assets", "spaces"], EntityTypeCount) == []
    assert misfits(["type_id", "n", "extra"], EntityTypeCount) == [
        "column extra is no field",
        "field assets is no column",
        "field spaces is no column",
    ]
    assert (
        misfits(["id", "body", "version", "transaction_id", "updated_at", "type_id"], ItemRow) == []
    )


async def test_each_row_type_fits_its_statements(services: Services) -> None:
    found: dict[str, list[str]] = {}
    async with services.pool.acquire() as conn:
        for sql, row_type in STATEMENTS:
            statement = await conn.prepare(sql)
            columns = [attribute.name for attribute in statement.get_attributes()]
            if wrong := misfits(columns, row_type):
                found[f"{row_type.__name__}: {' '.join(sql.split())[:80]}"] = wrong
    assert found == {}


async def test_current_schemas_fit_beside_the_generation(services: Services) -> None:
    async with services.pool.acquire() as conn:
        statement = await conn.prepare(typeschemas_store.CURRENT_TYPE_SCHEMAS)
        columns = [attribute.name for attribute in statement.get_attributes()]
    assert columns[0] == "generation"
    assert misfits(columns[1:], CurrentSchema) == []
