"""Reading a Brick model (any RDF rdflib reads), the collection's types it is mapped onto
(:class:`Catalog`), and the release an export names. The mapping itself, triple by triple, is
in :mod:`shared.importer.plan`."""

from __future__ import annotations

from typing import Any

import rdflib
from rdflib import URIRef

from shared.importer.errors import BadInput

# Every Brick namespace, old and new: https://brickschema.org/schema/Brick#,
# .../1.0.2/Brick#, .../1.0.2/BrickFrame#. Only the catalog's own namespace has its classes.
BRICK_SITE = ("https://brickschema.org/schema/", "http://brickschema.org/schema/")


def read_model(path: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    try:
        graph.parse(path, format=rdflib.util.guess_format(path) or "turtle")
    except Exception as exc:  # rdflib raises many kinds for a file it cannot read
        raise BadInput(f"cannot read the model {path}: {exc}") from exc
    return graph


def is_brick(term: Any) -> bool:
    return isinstance(term, URIRef) and str(term).startswith(BRICK_SITE)


def local_name(term: Any) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rstrip("/").rsplit("/", 1)[-1]


def short(graph: rdflib.Graph, term: Any) -> str:
    try:
        return str(term.n3(graph.namespace_manager))
    except Exception:
        return str(term)


class Catalog:
    """The collection's types, as ``GET .../brick/types`` gives them."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.namespace: str = data["namespace"]
        self.release = data.get("release") or "its release"
        self.schema_collection = data["schemaCollectionId"]
        self.types = {t["class"]: t for t in data["entityTypes"]}
        self.relations: dict[str, list[dict[str, Any]]] = {}
        for rel in data["relationshipTypes"]:
            self.relations.setdefault(rel["relation"], []).append(rel)

    def lineage(self, class_name: str) -> list[str]:
        return [class_name, *self.types[class_name]["ancestors"]]

    def entity_class(self, classes: list[Any]) -> str | None:
        """The most specific known class of a node (one no other known class descends from)."""
        known = [
            local_name(c) for c in classes if str(c).startswith(self.namespace)
            and local_name(c) in self.types
        ]  # fmt: skip
        ancestors = {a for name in known for a in self.types[name]["ancestors"]}
        specific = sorted(name for name in set(known) if name not in ancestors)
        return specific[0] if specific else None

    def replacement(self, class_name: str) -> str | None:
        """The class a deprecated one is replaced by in this release (following a chain of
        replacements), or None when it is current or its replacement is not a known type."""
        seen, name = {class_name}, class_name
        while (successor := self.types.get(name, {}).get("replacedBy")) and successor not in seen:
            seen.add(successor)
            name = successor
        return name if name != class_name and name in self.types else None

    def relationship_type(self, relation: str, source: str, target: str) -> tuple[str | None, str]:
        """The best type for the relation between these classes, or None and why not."""
        candidates = self.relations.get(relation, [])
        if not candidates:
            return None, (
                f"schema collection {self.schema_collection} (Brick {self.release}) has no "
                f"relationship type for the relation {relation}"
            )
        source_line, target_line = self.lineage(source), self.lineage(target)
        best: tuple[int, str] | None = None
        for rel in candidates:
            for pair_source, pair_target in rel["pairs"]:
                if pair_source in source_line and pair_target in target_line:
                    rank = source_line.index(pair_source) + target_line.index(pair_target)
                    best = min(best or (rank, rel["typeId"]), (rank, rel["typeId"]))
        if best is None:
            pairs = sorted({f"{s}->{t}" for rel in candidates for s, t in rel["pairs"]})
            shown = ", ".join(pairs[:12]) + (", ..." if len(pairs) > 12 else "")
            return None, (
                f"no {relation} relationship type admits {source} -> {target} "
                f"(allowed pairs: {shown})"
            )
        return best[1], ""


def release_of(turtle: bytes) -> str | None:
    """The release the export's header names (``(Brick 1.4)``)."""
    first = turtle[:300].decode(errors="replace").splitlines()[0] if turtle else ""
    marker = "(Brick "
    if marker in first:
        value = first.split(marker, 1)[1].split(")", 1)[0]
        return value if value[:1].isdigit() else None
    return None
