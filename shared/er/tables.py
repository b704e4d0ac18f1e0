"""The two item tables of an ER collection, entities and relationships: what their reads' SQL
is made from, and how messages and status logs name their items."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ItemTable:
    """An item table: what its reads' SQL is made from (shared/er/store/reads.py), and how
    messages and status logs name its items."""

    table: str
    type_column: str
    noun: str
    item_kind: str  # as status logs name it
    versions_table: str


ENTITIES = ItemTable("er_entities", "entity_type", "entity", "entity", "er_entity_versions")
RELATIONSHIPS = ItemTable(
    "er_relationships", "relationship_type", "relationship", "relationship",
    "er_relationship_versions",
)  # fmt: skip
