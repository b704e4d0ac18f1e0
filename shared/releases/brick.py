"""Read one Brick release (``brickschema/ontologies/<v>/Brick.ttl``) into a release bundle.

The bundle is namespace-free and plain JSON (see ``shared.releases.bundle``): one entry per
Brick class under a top class, and the domain/range facts of the Brick relations. Parsing
takes seconds, so callers cache the result (``shared.releases.catalog``); nothing here runs a
reasoner, it reads the asserted triples only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, URIRef
from rdflib.collection import Collection as RdfList
from rdflib.term import Node

from shared.releases.bundle import TOP_CLASSES

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
# Blank nodes of a class's shape that can hold property shapes, directly or in a list.
SHAPE_LINKS = (SH.property, SH["or"], SH.xone, SH["and"], RDF.first, RDF.rest)
CLASS_LINKS = (SH["or"], SH.xone, SH.qualifiedValueShape, RDF.first, RDF.rest)
# Relations between classes (ontology bookkeeping) or with tags, not between entities.
META_RELATIONS = frozenset(
    {"aliasOf", "isReplacedBy", "hasAssociatedTag", "isAssociatedWith", "hasTag", "isTagOf"}
)


def local_name(uri: URIRef) -> str:
    text = str(uri)
    return text.rsplit("#", 1)[-1] if "#" in text else text.rsplit("/", 1)[-1]


def first_literal(graph: Graph, subject: URIRef, predicate: URIRef) -> str | None:
    values = list(graph.objects(subject, predicate))
    english = [v for v in values if getattr(v, "language", None) in (None, "en")]
    return str((english or values)[0]) if values else None


class BrickReader:
    """The asserted class hierarchy, tags and relation facts of one parsed Brick graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        points = [c for c in graph.subjects(RDF.type, OWL.Class) if str(c).endswith("Brick#Point")]
        if not points:
            raise ValueError("not a Brick ontology: no brick:Point class")
        self.ns = str(points[0])[: -len("Point")]
        self.supers: dict[URIRef, set[URIRef]] = defaultdict(set)
        for sub, sup in graph.subject_objects(RDFS.subClassOf):
            if isinstance(sub, URIRef) and isinstance(sup, URIRef) and sub != sup:
                self.supers[sub].add(sup)
        # A deprecated top class names its replacement (brick:Collection -> rec:Collection in
        # 1.5): the replacement stands for that top class.
        self.aliases: dict[URIRef, str] = {}
        for top in TOP_CLASSES:
            for replacement in graph.objects(self.brick(top), URIRef(self.ns + "isReplacedBy")):
                if isinstance(replacement, URIRef):
                    self.aliases[replacement] = top
        self._lineage: dict[URIRef, set[URIRef]] = {}
        self.entities = self._entity_classes()

    def brick(self, name: str) -> URIRef:
        return URIRef(self.ns + name)

    def lineage(self, cls: URIRef) -> set[URIRef]:
        """Every asserted superclass of ``cls``, transitively."""
        if cls not in self._lineage:
            seen: set[URIRef] = set()
            stack = list(self.supers.get(cls, ()))
            while stack:
                sup = stack.pop()
                if sup not in seen and sup != cls:
                    seen.add(sup)
                    stack.extend(self.supers.get(sup, ()))
            self._lineage[cls] = seen
        return self._lineage[cls]

    def _entity_classes(self) -> dict[URIRef, str]:
        tops = {self.brick(t) for t in TOP_CLASSES} | set(self.aliases)
        entities = {}
        for cls in self.graph.subjects(RDF.type, OWL.Class):
            if isinstance(cls, URIRef) and str(cls).startswith(self.ns):
                if cls in tops or self.lineage(cls) & tops:
                    entities[cls] = local_name(cls)
        return entities

    def names_for_parent(self, cls: URIRef) -> list[str]:
        """The entity names a superclass stands for; an unnamed one is looked through."""
        if cls in self.entities:
            return [self.entities[cls]]
        if cls in self.aliases:
            return [self.aliases[cls]]
        return [n for sup in sorted(self.supers.get(cls, ())) for n in self.names_for_parent(sup)]

    def names_for_end(self, cls: URIRef) -> list[str]:
        """The entity names a relation end stands for: itself, or the top-most entity classes
        under a class that is not an entity type (rec:Space -> Location, brick:Entity -> tops)."""
        if cls in self.entities:
            return [self.entities[cls]]
        if cls in self.aliases:
            return [self.aliases[cls]]
        under = {e for e in self.entities if cls in self.lineage(e)}
        return sorted(self.entities[e] for e in under if not self.lineage(e) & under)

    def entity_entries(self) -> Iterator[dict[str, Any]]:
        g = self.graph
        for cls, name in sorted(self.entities.items(), key=lambda item: item[1]):
            parents = {p for sup in self.supers.get(cls, ()) for p in self.names_for_parent(sup)}
            parents.discard(name)
            # An alias (AHU for Air_Handling_Unit) states neither tags nor definition itself.
            same = [cls, *self.equivalents(cls)]
            tags = next(filter(None, (self.tags_of(c) for c in same)), set())
            definition = next(
                filter(None, (first_literal(g, c, SKOS.definition) for c in same)), None
            )
            entry: dict[str, Any] = {
                "name": name,
                "label": first_literal(g, cls, RDFS.label) or name.replace("_", " "),
                "parents": sorted(parents),
                "tags": sorted(tags),
                "definition": definition,
                "deprecated": (cls, OWL.deprecated, None) in g,
            }
            replaced_by = next(iter(g.objects(cls, self.brick("isReplacedBy"))), None)
            if isinstance(replaced_by, URIRef):
                names = self.names_for_end(replaced_by)
                entry["replacedBy"] = names[0] if names else local_name(replaced_by)
            yield entry

    def tags_of(self, cls: URIRef) -> set[str]:
        tags = self.graph.objects(cls, self.brick("hasAssociatedTag"))
        return {local_name(t) for t in tags if isinstance(t, URIRef)}

    def equivalents(self, cls: URIRef) -> list[URIRef]:
        g = self.graph
        found = {*g.objects(cls, OWL.equivalentClass), *g.subjects(OWL.equivalentClass, cls)}
        found |= set(g.objects(cls, self.brick("aliasOf")))
        return sorted(c for c in found if isinstance(c, URIRef) and c != cls)

    def tag_vocabulary(self) -> list[str]:
        g = self.graph
        declared = g.subjects(RDF.type, self.brick("Tag"))
        tags = {local_name(t) for t in declared if isinstance(t, URIRef)}
        used = g.objects(None, self.brick("hasAssociatedTag"))
        tags |= {local_name(t) for t in used if isinstance(t, URIRef)}
        return sorted(t for t in tags if t)

    # Relations ------------------------------------------------------------------------------

    def relations(self) -> dict[URIRef, str]:
        """Brick object properties by URI, with foreign equivalents mapped onto them."""
        named = {
            p: local_name(p)
            for p in self.graph.subjects(RDF.type, OWL.ObjectProperty)
            if isinstance(p, URIRef)
            and str(p).startswith(self.ns)
            and local_name(p) not in META_RELATIONS
        }
        for a, b in self.graph.subject_objects(OWL.equivalentProperty):
            if not (isinstance(a, URIRef) and isinstance(b, URIRef)):
                continue
            if a in named and b not in named:
                named[b] = named[a]
            elif b in named and a not in named:
                named[a] = named[b]
        return named

    def class_members(self, node: Any) -> Iterator[URIRef]:
        """The classes a domain/range names: a class or an owl:unionOf list of classes."""
        if isinstance(node, URIRef):
            yield node
            return
        for union in self.graph.objects(node, OWL.unionOf):
            yield from (m for m in RdfList(self.graph, union) if isinstance(m, URIRef))

    def shape_classes(self, shape: Any) -> set[URIRef]:
        """The sh:class values a property shape allows, through sh:or lists and qualified shapes."""
        found, stack, seen = set(), [shape], set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            found |= {c for c in self.graph.objects(node, SH["class"]) if isinstance(c, URIRef)}
            for link in CLASS_LINKS:
                stack.extend(o for o in self.graph.objects(node, link) if isinstance(o, BNode))
        return found

    def property_shapes(self, owner: Any) -> Iterator[Any]:
        """Property shapes reachable from a class's shape (1.2 nests them in sh:or lists)."""
        stack, seen = [owner], set()
        while stack:
            node = stack.pop()
            for link in SHAPE_LINKS:
                for target in self.graph.objects(node, link):
                    if target in seen or not (isinstance(target, BNode) or link == SH.property):
                        continue
                    seen.add(target)
                    if (target, SH.path, None) in self.graph:
                        yield target
                    stack.append(target)

    def raw_facts(self, relations: dict[URIRef, str]) -> set[tuple[URIRef, URIRef, URIRef]]:
        g = self.graph
        facts: set[tuple[URIRef, URIRef, URIRef]] = set()
        owners: set[tuple[Node, Node]] = {(s, s) for s in g.subjects(SH.property, None)}
        owners |= {(s, c) for s, c in g.subject_objects(SH.targetClass) if isinstance(c, URIRef)}
        for shape, cls in owners:
            if not isinstance(cls, URIRef):
                continue
            for prop in self.property_shapes(shape):
                path = g.value(prop, SH.path)
                if path in relations:
                    facts |= {(path, cls, d) for d in self.shape_classes(prop)}
        for prop in relations:
            domains, ranges = self.domain_and_range(prop)
            facts |= {(prop, d, r) for d in domains for r in ranges}
        for shape, prop in g.subject_objects(SH.targetSubjectsOf):
            if isinstance(prop, URIRef) and prop in relations:
                domains = [c for c in g.objects(shape, SH["class"]) if isinstance(c, URIRef)]
                ranges = [
                    c
                    for p in self.property_shapes(shape)
                    if g.value(p, SH.path) == prop
                    for c in self.shape_classes(p)
                ]
                facts |= {(prop, d, r) for d in domains for r in ranges}
        return facts

    def domain_and_range(self, prop: URIRef) -> tuple[list[URIRef], list[URIRef]]:
        g = self.graph
        domains = [c for d in g.objects(prop, RDFS.domain) for c in self.class_members(d)]
        ranges = [c for r in g.objects(prop, RDFS.range) for c in self.class_members(r)]
        return domains, ranges

    def open_ends(
        self, relations: dict[URIRef, str]
    ) -> Iterator[tuple[URIRef, list[str], list[str]]]:
        """Relations with only a domain or only a range (Brick 1.1's hasPoint): the open end
        admits any top class, as RDFS reads a missing domain or range."""
        tops = [self.entities[self.brick(t)] for t in TOP_CLASSES if self.brick(t) in self.entities]
        for prop in relations:
            domains, ranges = self.domain_and_range(prop)
            if bool(domains) != bool(ranges):
                sources = [n for d in domains for n in self.names_for_end(d)] or tops
                destinations = [n for r in ranges for n in self.names_for_end(r)] or tops
                yield prop, sources, destinations

    def relation_entries(self) -> list[dict[str, Any]]:
        relations = self.relations()
        inverses: dict[URIRef, set[URIRef]] = defaultdict(set)
        for a, b in self.graph.subject_objects(OWL.inverseOf):
            if (
                isinstance(a, URIRef)
                and isinstance(b, URIRef)
                and a in relations
                and b in relations
            ):
                inverses[a].add(b)
                inverses[b].add(a)
        pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for prop, source, destination in self.raw_facts(relations):
            ends = [
                (s, d) for s in self.names_for_end(source) for d in self.names_for_end(destination)
            ]
            pairs[relations[prop]] |= set(ends)
            for inverse in inverses.get(prop, ()):
                pairs[relations[inverse]] |= {(d, s) for s, d in ends}
        for prop, sources, destinations in list(self.open_ends(relations)):
            if pairs[relations[prop]]:
                continue  # closed facts (shapes, an inverse's facts) say more
            ends = [(s, d) for s in sources for d in destinations]
            pairs[relations[prop]] |= set(ends)
            for inverse in inverses.get(prop, ()):
                if not any(pairs[relations[i]] for i in inverses.get(inverse, ()) if i != prop):
                    pairs[relations[inverse]] |= {(d, s) for s, d in ends}
        inverse_names = {
            relations[prop]: sorted(relations[i] for i in found) for prop, found in inverses.items()
        }
        entries = []
        for relation in sorted(r for r in pairs if pairs[r]):
            uri = self.brick(relation)
            named = inverse_names.get(relation)
            entries.append(
                {
                    "relation": relation,
                    "inverse": named[0] if named else None,
                    "definition": first_literal(self.graph, uri, SKOS.definition),
                    "pairs": [{"source": s, "destination": d} for s, d in sorted(pairs[relation])],
                }
            )
        return entries


def read_release(path: Path, version: str) -> dict[str, Any]:
    """Parse one Brick.ttl into an unnormalised release bundle (``bundle.normalise`` next)."""
    graph = Graph()
    graph.parse(path, format="turtle")
    reader = BrickReader(graph)
    return {
        "releaseLine": "brick",
        "version": version,
        "tags": reader.tag_vocabulary(),
        "entitytypes": list(reader.entity_entries()),
        "relationshiptypes": reader.relation_entries(),
    }
