"""The graph walks' rows as types (shared/graph/store.py), so mypy checks every column the
expansion and reachability read (the graph's items are shared/er/rows.py's GraphItemRow)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExpansionPath:
    """A relationship an expansion walked, at ``depth``, by its path from a root."""

    depth: int
    path: list[str]  # 'collection id' || ' ' || 'id' of each relationship from the root
    collection_id: str
    id: str
    source_id: str
    to_collection: str
    to_id: str


@dataclass(frozen=True, slots=True)
class ReachStep:
    """A relationship one level of a reachability walk crosses, from the frontier's entity
    to the one it reaches (against its direction when the walk goes in)."""

    from_collection: str
    from_id: str
    relationship_collection: str
    relationship_id: str
    relationship_type: str
    to_collection: str
    to_id: str
