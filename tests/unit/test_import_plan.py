"""A Brick model mapped onto a collection's types: every triple in exactly one place (issue 20,
finding 3: relations with an end that has no Brick class were dropped without a word)."""

from __future__ import annotations

from typing import Any

import rdflib

from shared.importer.plan import to_items
from shared.importer.run import Summary
from shared.importer.summary import model_lines, model_summary

MODEL = """
@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ex:ahu1 a brick:AHU, brick:Equipment, owl:NamedIndividual ;
    rdfs:label "AHU 1", "AHU one" ;
    brick:feeds ex:vav1, ex:ghost ;
    brick:hasPoint ex:t1 .
ex:vav1 a brick:VAV .
ex:t1 a brick:Temperature_Sensor ; brick:hasUnit unit:DEG_C ; brick:value "21.5"^^xsd:decimal .
ex:ghost brick:feeds ex:ahu1 .
ex:old a brick:Old_Class ; brick:feeds ex:vav1 .
ex:note rdfs:label "a note" ; ex:says ex:ahu1 .
"""


def catalog() -> dict[str, Any]:
    classes = {
        "Equipment": [],
        "AHU": ["Equipment"],
        "VAV": ["Equipment"],
        "Point": [],
        "Sensor": ["Point"],
        "Temperature_Sensor": ["Sensor", "Point"],
    }
    return {
        "namespace": "https://brickschema.org/schema/Brick#",
        "release": "1.4",
        "schemaCollectionId": "Brick_1_4",
        "entityTypes": [
            {"typeId": f"B__{c}", "class": c, "ancestors": a} for c, a in classes.items()
        ],
        "relationshipTypes": [
            {"typeId": "B__feeds", "relation": "feeds", "pairs": [["Equipment", "Equipment"]]},
            {"typeId": "B__hasPoint", "relation": "hasPoint", "pairs": [["Equipment", "Point"]]},
        ],
    }


def plan_of(text: str = MODEL) -> Any:
    return to_items(rdflib.Graph().parse(data=text, format="turtle"), catalog())


def test_every_triple_is_in_an_entity_a_relationship_or_skipped_with_a_reason() -> None:
    plan = plan_of()
    assert plan.triples == 17
    assert plan.entity_triples == 5  # the classes kept (and the refused node's), the one name
    assert plan.relationships_read == 5
    assert len(plan.skipped) == 7
    assert plan.triples == plan.entity_triples + plan.relationships_read + len(plan.skipped)
    assert [e.id for e in plan.entities] == [
        "http://example.org/ahu1", "http://example.org/t1", "http://example.org/vav1",
    ]  # fmt: skip
    assert plan.entities[0].body["entityName"] == "AHU 1"
    assert [r.id for r in plan.refused_entities] == ["http://example.org/old"]
    assert all(s.reason for s in plan.skipped)
    reasons = plan.skipped_by_reason()
    assert reasons == {
        "another Brick class of an entity, an ancestor of the class it keeps, so implied by it": 1,
        "owl:NamedIndividual is not a Brick class": 1,
        "another rdfs:label of an entity: it has one name": 1,
        "brick:hasUnit is not a relation between entities in Brick 1.4, and its target has no "
        "Brick class: a property (a unit, a timeseries, a value), not a relationship": 1,
        "brick:value has a literal value: a property, not a relationship": 1,
        "an rdfs:label of a node with no Brick class": 1,
        "ex:says is not a Brick relation": 1,
    }


def test_a_relation_with_an_end_that_has_no_class_is_refused_with_its_reason() -> None:
    """Before, these two vanished: neither stored nor reported."""
    plan = plan_of()
    refused = {tuple(r.triple): r.reason for r in plan.refused_relationships}
    feeds = "https://brickschema.org/schema/Brick#feeds"
    ex = "http://example.org/"
    assert refused[(f"{ex}ghost", feeds, f"{ex}ahu1")] == (
        "ex:ghost has no Brick class in the model (it has no rdf:type)"
    )
    assert refused[(f"{ex}ahu1", feeds, f"{ex}ghost")].startswith("ex:ghost has no Brick class")
    assert refused[(f"{ex}old", feeds, f"{ex}vav1")].startswith(f"{ex}old was not imported")
    assert len(plan.relationships) == 2 and len(refused) == 3


def test_an_end_typed_outside_brick_is_named_with_its_types() -> None:
    plan = plan_of(
        MODEL + "@prefix rec: <https://w3id.org/rec#> .\n"
        "ex:floor1 a rec:Level .\nex:ahu1 brick:feeds ex:floor1 .\n"
    )
    [reason] = [r.reason for r in plan.refused_relationships if r.triple[2].endswith("floor1")]
    assert reason == "ex:floor1 has no Brick class in the model (its types: rec:Level)"


def test_the_summary_adds_up_and_says_so() -> None:
    plan = plan_of()
    entities = Summary(total=3, stored=2, failed=1)  # the server refused one entity
    relationships = Summary(total=2, stored=2)
    summary = model_summary("m.ttl", plan, entities, relationships)
    assert summary["entities"] == {
        "read": 4, "stored": 2, "refused": 2, "refusedBeforeSending": 1, "refusedByServer": 1,
    }  # fmt: skip
    assert summary["relationships"]["read"] == 5 == 2 + summary["relationships"]["refused"]
    lines = model_lines(summary)
    assert lines[0] == (
        "summary: triples: 17 read = 5 in entities + 5 in relationships + 7 skipped"
    )
    assert lines[1] == (
        "summary: entities: 4 read = 2 stored + 2 refused (1 before sending, 1 by the server)"
    )
    assert len(lines) == 3 + 7  # one line per reason a triple was skipped
