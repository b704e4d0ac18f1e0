"""The derived ``brick*`` fields of a relationship, as the Apollo docs show them.

``brickRelationshipType`` holds the namespaced relation (``BRICK_0_4__hasPart``) and
``brickRelationshipName`` the relation itself (``hasPart``); each end has the pair an entity has
for itself: ``brick*EntityType`` its top class and ``brick*EntitySubType`` its type. The values of
an end are those its entity derives for itself (``entity_derived``), so the two always agree.
"""

from __future__ import annotations

from shared.er.validation import entity_derived
from shared.schemas.catalog import TypeSchema


def relationship_derived(
    relationship_type: str,
    type_schema: TypeSchema,
    source_schema: TypeSchema,
    destination_schema: TypeSchema,
) -> dict[str, str]:
    relation = type_schema.metadata.get("relation")
    relation = relation if isinstance(relation, str) and relation else relationship_type
    namespace, separator, _ = relationship_type.partition("__")
    source, destination = entity_derived(source_schema), entity_derived(destination_schema)
    return {
        "brickRelationshipType": f"{namespace}__{relation}" if separator else relation,
        "brickRelationshipName": relation,
        "brickSourceEntityType": source["brickEntityType"],
        "brickSourceEntitySubType": source["brickEntitySubType"],
        "brickDestinationEntityType": destination["brickEntityType"],
        "brickDestinationEntitySubType": destination["brickEntitySubType"],
    }
