"""The ontology graph from a collection's types: objects, inherited ends, and release inverses."""

from __future__ import annotations

from typing import Any

from rdflib import Graph

from shared.ontology.graph import build, object_json
from shared.ontology.rows import ActiveType, OntologyObjectRow
from shared.ontology.service import BOTH, split_filter
from shared.releases.brick import BrickReader
from shared.releases.bundle import normalise

NS = "BRICK_1_4"
TTL = """
@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
brick:Point a owl:Class . brick:Equipment a owl:Class . brick:Location a owl:Class .
brick:Sensor a owl:Class ; rdfs:subClassOf brick:Point .
brick:feeds a owl:ObjectProperty ; rdfs:domain brick:Equipment ; rdfs:range brick:Equipment ;
    owl:inverseOf brick:isFedBy .
brick:isFedBy a owl:ObjectProperty .
brick:hasLocation a owl:ObjectProperty ; rdfs:domain brick:Point ; rdfs:range brick:Location .
"""


def entity(name: str, *ancestors: str, top: str | None = None) -> ActiveType:
    metadata = {"class": name, "ancestors": list(ancestors), "topClass": top or name}
    return ActiveType(f"{NS}__{name}", "entitytypes", metadata, name.replace("_", " "))


def relationship(relation: str, source: str, destination: str, inverse: str | None) -> ActiveType:
    metadata: dict[str, Any] = {
        "relation": relation,
        "source": source,
        "destination": destination,
        "pairs": [{"source": source, "destination": destination}],
        "inverse": inverse,
    }
    return ActiveType(
        f"{NS}__{relation}_{source}_{destination}", "relationshiptypes", metadata, None
    )


ENTITIES = [
    entity("Point"),
    entity("Sensor", "Point", top="Point"),
    entity("Air_Flow_Sensor", "Sensor", "Point", top="Point"),
    entity("Location"),
]
RELATIONS = [relationship("hasLocation", "Point", "Location", "isLocationOf")]


def test_each_relationship_type_is_one_object_between_top_classes() -> None:
    graph = build(NS, ENTITIES, RELATIONS)
    [found] = graph.objects
    assert found.object_id == f"{NS}__hasLocation_Point_Location"
    assert (found.source_id, found.destination_id) == (f"{NS}__Point", f"{NS}__Location")
    assert found.relation_type_id == f"{NS}__hasLocation"
    assert graph.ends == [(found.object_id, f"{NS}__Point", f"{NS}__Location")]
    assert (f"{NS}__Sensor", f"{NS}__Point", "Sensor") in graph.entity_types


def test_a_type_inherits_through_its_lineage() -> None:
    graph = build(NS, ENTITIES, RELATIONS)
    lineage = {a for t, a in graph.lineage if t == f"{NS}__Air_Flow_Sensor"}
    assert lineage == {f"{NS}__Air_Flow_Sensor", f"{NS}__Sensor", f"{NS}__Point"}
    assert {a for t, a in graph.lineage if t == f"{NS}__Location"} == {f"{NS}__Location"}


def test_a_relationship_type_without_rules_joins_nothing() -> None:
    empty = ActiveType(f"{NS}__odd", "relationshiptypes", {"relation": "odd", "pairs": []}, None)
    assert build(NS, ENTITIES, [empty]).objects == []


def test_the_object_names_its_inverse_as_the_page_does() -> None:
    row = OntologyObjectRow(
        object_id="B__hasLocation_Point_Location",
        relation="hasLocation",
        relation_type_id="B__hasLocation",
        source_id="B__Point",
        destination_id="B__Location",
        inverse_relation="isLocationOf",
        source_top="B__Point",
        source_name="Point",
        destination_top=None,
        destination_name=None,
    )
    shown = object_json("B", row)
    meta = shown["B__hasLocation_Point_Location"]["brickMetadata"]
    assert meta["inverseRelationshipType"] == "B__isLocationOf_Location_Point"
    assert meta["brickInverseRelationshipType"] == "B__isLocationOf"
    assert shown["B__hasLocation_Point_Location"]["B__Location"]["brickMetadata"] == {
        "brickEntityType": "B__Location",
        "brickEntitySubType": "B__Location",
        "brickEntityName": "Location",
    }


def test_inverses_come_from_the_release_both_ways() -> None:
    graph = Graph().parse(data=TTL, format="turtle")
    entries = {e["relation"]: e for e in BrickReader(graph).relation_entries()}
    assert entries["feeds"]["inverse"] == "isFedBy"
    assert entries["isFedBy"]["inverse"] == "feeds"
    assert entries["hasLocation"]["inverse"] is None
    bundle = {"releaseLine": "brick", "version": "9", "entitytypes": [
        {"name": "Equipment"}], "relationshiptypes": [entries["feeds"]]}  # fmt: skip
    [grouped] = normalise(bundle)["relationshiptypes"]
    assert grouped["inverse"] == "isFedBy"


def test_the_filter_in_the_path_or_the_query() -> None:
    assert split_filter("X($filter=destEntityType)", None) == ("X", ("source",))
    assert split_filter("X", "sourceEntityType") == ("X", ("destination",))
    assert split_filter("X", None) == ("X", BOTH)
