"""The Brick mapping's edge cases, one small model each: what an entity and a relationship look
like exactly (their ids stay stable across imports), which label names an entity, why a node or
a relation is refused, and where each triple that is neither goes."""

from __future__ import annotations

from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef

from shared.importer.plan import Plan, term_text, to_items, triple_id
from shared.importer.sources import MAX_ID_LENGTH

PREFIXES = """
@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix old: <http://brickschema.org/schema/1.0.2/Brick#> .
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix rec: <https://w3id.org/rec#> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
BRICK = "https://brickschema.org/schema/Brick#"
EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
NOT_A_CLASS = "is not a class of schema collection B (Brick 1.4, namespace " + BRICK + ")"


def catalog() -> dict[str, Any]:
    classes = {"Equipment": [], "AHU": ["Equipment"], "VAV": ["Equipment"], "Sensor": []}
    return {
        "namespace": BRICK,
        "release": "1.4",
        "schemaCollectionId": "B",
        "entityTypes": [
            {"typeId": f"B__{c}", "class": c, "ancestors": a} for c, a in classes.items()
        ],
        "relationshipTypes": [
            {"typeId": "B__feeds", "relation": "feeds", "pairs": [["Equipment", "Equipment"]]},
        ],
    }


def plan_of(turtle: str) -> Plan:
    graph = rdflib.Graph().parse(data=PREFIXES + turtle, format="turtle")
    plan = to_items(graph, catalog())
    # Whatever the model, every triple is in exactly one place.
    assert plan.triples == plan.entity_triples + plan.relationships_read + len(plan.skipped)
    return plan


def skipped(plan: Plan) -> list[tuple[str, list[str]]]:
    return [(s.reason, s.triple) for s in plan.skipped]


def by_triple(plan: Plan) -> dict[tuple[str, ...], str]:
    """Each refused relationship's reason by its triple (its id is the triple's)."""
    assert all(r.id == triple_id(r.triple or []) for r in plan.refused_relationships)
    return {tuple(r.triple or []): r.reason for r in plan.refused_relationships}


def test_a_relationship_is_its_triple_with_an_id_that_stays_the_same_across_imports() -> None:
    plan = plan_of("ex:a a brick:AHU . ex:v a brick:VAV . ex:a brick:feeds ex:v .")
    assert [item.body for item in plan.relationships] == [
        {
            # uuid5 of the triple: a second import of the model updates it in place.
            "id": "c3f2f125-bc26-5a0f-b789-459cc7c7fe40",
            "sourceEntityId": f"{EX}a",
            "destinationEntityId": f"{EX}v",
            "relationshipName": "feeds",
            "relationshipType": "B__feeds",
        }
    ]
    assert [item.id for item in plan.relationships] == ["c3f2f125-bc26-5a0f-b789-459cc7c7fe40"]
    assert plan.entity_triples == 2 and plan.skipped == []


def test_an_entity_is_named_by_its_first_label_as_text_else_by_its_local_name() -> None:
    plan = plan_of(
        """ex:a a brick:AHU ; rdfs:label "9"^^xsd:integer, "10"^^xsd:integer, ex:iri .
        ex:b a brick:VAV . <http://example.org/things#c> a brick:VAV .
        ex:n rdfs:label "a note"@en ."""
    )
    assert [item.body for item in plan.entities] == [
        {"id": f"{EX}a", "entityName": "10", "entityType": "B__AHU"},  # "10" < "9" as text
        {"id": f"{EX}b", "entityName": "b", "entityType": "B__VAV"},
        {"id": f"{EX}things#c", "entityName": "c", "entityType": "B__VAV"},
    ]
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    assert skipped(plan) == [
        ("another rdfs:label of an entity: it has one name",
         [f"{EX}a", label, f'"9"^^<{XSD}integer>']),
        ("another rdfs:label of an entity: it has one name", [f"{EX}a", label, f"{EX}iri"]),
        ("an rdfs:label of a node with no Brick class", [f"{EX}n", label, '"a note"@en']),
    ]  # fmt: skip
    assert plan.entity_triples == 4  # three classes and the one name


def test_of_labels_with_the_same_text_a_plain_one_names_the_entity() -> None:
    """Ties on the text go to no language before a language, then no datatype first."""
    plan = plan_of('ex:a a brick:AHU ; rdfs:label "AHU"@fr, "AHU"^^xsd:string, "AHU", "AHU"@en .')
    assert sorted(triple[2] for _, triple in skipped(plan)) == [
        '"AHU"@en', '"AHU"@fr', f'"AHU"^^<{XSD}string>',
    ]  # fmt: skip
    assert plan.entity_triples == 2


def test_an_entity_keeps_one_class_and_each_other_class_is_skipped_saying_why() -> None:
    plan = plan_of("ex:a a brick:VAV, brick:AHU, old:AHU, brick:Equipment, rec:Space .")
    assert [item.body["entityType"] for item in plan.entities] == ["B__AHU"]
    kind = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert skipped(plan) == [
        ("another Brick class of an entity, not a class of Brick 1.4",
         [f"{EX}a", kind, "http://brickschema.org/schema/1.0.2/Brick#AHU"]),
        ("another Brick class of an entity, an ancestor of the class it keeps, so implied by it",
         [f"{EX}a", kind, f"{BRICK}Equipment"]),
        ("another Brick class of an entity, an entity has one class: the most specific one, "
         "then the first by name", [f"{EX}a", kind, f"{BRICK}VAV"]),
        ("rec:Space is not a Brick class", [f"{EX}a", kind, "https://w3id.org/rec#Space"]),
    ]  # fmt: skip
    assert plan.entity_triples == 1


def test_a_brick_class_as_the_object_of_another_predicate_makes_no_entity() -> None:
    plan = plan_of("ex:n rdfs:seeAlso brick:AHU .")
    assert plan.entities == plan.refused_entities == []
    assert [reason for reason, _ in skipped(plan)] == ["rdfs:seeAlso is not a Brick relation"]


def test_a_node_is_refused_when_it_has_no_iri_too_long_an_iri_or_no_known_class() -> None:
    longest, too_long = (
        EX + "x" * (MAX_ID_LENGTH - len(EX)),
        EX + "y" * (MAX_ID_LENGTH - len(EX) + 1),
    )
    plan = plan_of(
        f"[] a brick:AHU . <{longest}> a brick:AHU . <{too_long}> a brick:AHU .\n"
        "ex:b a old:Thing, brick:Gone, brick:AHU_Old . ex:a a brick:AHU .\n"
        "ex:a brick:feeds ex:b . ex:b brick:feeds ex:a ."
    )
    assert [item.id for item in plan.entities] == [f"{EX}a", longest]
    reasons = {r.id: r.reason for r in plan.refused_entities}
    blank = next(r for r in reasons if not r.startswith("http"))
    not_known = f"class brick:AHU_Old, brick:Gone, old:Thing {NOT_A_CLASS}"
    assert list(reasons) == sorted(reasons)  # by text: rdflib's own order puts blank nodes first
    assert reasons == {
        blank: "a blank node has no IRI to keep as its id",
        too_long: f"its IRI is longer than {MAX_ID_LENGTH} characters",
        f"{EX}b": not_known,
    }
    # A refused node's class triples are accounted with it, and its relationships name why.
    assert plan.entity_triples == 7 and plan.skipped == []
    feeds = f"{BRICK}feeds"
    assert by_triple(plan) == {
        (f"{EX}a", feeds, f"{EX}b"): f"{EX}b was not imported: {not_known}",
        (f"{EX}b", feeds, f"{EX}a"): f"{EX}b was not imported: {not_known}",
    }


def test_a_relation_is_refused_with_the_reason_that_holds_first() -> None:
    plan = plan_of(
        """ex:a a brick:AHU . ex:s a brick:Sensor . ex:r a rec:Space, rec:Level .
        ex:a old:feeds ex:a ; brick:controls ex:a ; brick:feeds ex:s, ex:r .
        ex:u brick:feeds ex:w ."""
    )
    feeds = f"{BRICK}feeds"
    assert plan.relationships == []
    assert by_triple(plan) == {
        (f"{EX}a", "http://brickschema.org/schema/1.0.2/Brick#feeds", f"{EX}a"):
            "old:feeds is not a relation of Brick 1.4",
        (f"{EX}a", f"{BRICK}controls", f"{EX}a"):
            "schema collection B (Brick 1.4) has no relationship type for the relation controls",
        (f"{EX}a", feeds, f"{EX}s"):
            "no feeds relationship type admits AHU -> Sensor (allowed pairs: Equipment->Equipment)",
        (f"{EX}a", feeds, f"{EX}r"):
            "ex:r has no Brick class in the model (its types: rec:Level, rec:Space)",
        (f"{EX}u", feeds, f"{EX}w"):
            "ex:u has no Brick class in the model (it has no rdf:type); "
            "ex:w has no Brick class in the model (it has no rdf:type)",
    }  # fmt: skip


def test_a_property_is_skipped_naming_the_ends_that_have_no_class() -> None:
    plan = plan_of(
        """ex:a a brick:AHU ; brick:hasUnit unit:K ; brick:value "21.5"^^xsd:decimal .
        ex:x brick:hasUnit unit:DEG_C . ex:y brick:hasUnit ex:a ."""
    )
    unit = f"{BRICK}hasUnit"
    prop = "brick:hasUnit is not a relation between entities in Brick 1.4, and its "
    tail = " no Brick class: a property (a unit, a timeseries, a value), not a relationship"
    assert skipped(plan) == [
        (prop + "target has" + tail, [f"{EX}a", unit, "http://qudt.org/vocab/unit/K"]),
        ("brick:value has a literal value: a property, not a relationship",
         [f"{EX}a", f"{BRICK}value", f'"21.5"^^<{XSD}decimal>']),
        (prop + "source and target have" + tail,
         [f"{EX}x", unit, "http://qudt.org/vocab/unit/DEG_C"]),
        (prop + "source has" + tail, [f"{EX}y", unit, f"{EX}a"]),
    ]  # fmt: skip
    assert [s.id for s in plan.skipped] == [triple_id(s.triple) for s in plan.skipped]


def test_a_term_is_written_as_its_iri_or_in_n_triples_form() -> None:
    assert term_text(URIRef(f"{EX}a")) == f"{EX}a"
    assert term_text(Literal("21.5", datatype=URIRef(f"{XSD}decimal"))) == f'"21.5"^^<{XSD}decimal>'
    assert term_text(Literal("AHU", lang="en")) == '"AHU"@en'
    assert term_text(BNode("b0")) == "_:b0"
