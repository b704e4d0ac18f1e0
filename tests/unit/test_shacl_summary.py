"""SHACL results summarised (issue 22): grouped by severity, shape and message with counts,
results about nodes that are not the model's (the ontologies loaded beside it) left out."""

from __future__ import annotations

import pyshacl
import rdflib
from rdflib import URIRef

from shared.importer.shacl import summarise

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:NeedsLabel a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ; sh:message "a thing needs a label" ] .
ex:SoftUnit a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:unit ; sh:minCount 1 ; sh:severity sh:Warning ] .
"""
DATA = """
@prefix ex: <http://example.org/> .
ex:a a ex:Thing .
ex:b a ex:Thing .
ex:c a ex:Thing ; ex:label "c" ; ex:unit ex:m .
ex:ontologyNode a ex:Thing ; ex:label "not the model's" .
"""
MODEL_NODES = {URIRef(f"http://example.org/{name}") for name in "abc"}


def results() -> rdflib.Graph:
    data = rdflib.Graph().parse(data=DATA, format="turtle")
    shapes = rdflib.Graph().parse(data=SHAPES, format="turtle")
    conforms, graph, _ = pyshacl.validate(data, shacl_graph=shapes)
    assert not conforms
    assert isinstance(graph, rdflib.Graph)
    return graph


def test_results_are_grouped_with_counts_and_severities_apart() -> None:
    summary = summarise(results(), MODEL_NODES)
    data = summary.to_json()
    assert (data["violations"], data["warnings"]) == (2, 2)
    assert not data["conforms"]
    first, second = data["groups"]
    assert (first["severity"], first["count"], first["message"]) == (
        "Violation", 2, "a thing needs a label",
    )  # fmt: skip
    assert sorted(first["focusNodes"]) == ["ex:a", "ex:b"]
    assert (second["severity"], second["count"]) == ("Warning", 2)
    assert second["message"] == "Less than 1 values on <focus node>->ex:unit"
    assert "MinCountConstraintComponent" in second["shape"]


def test_results_about_nodes_outside_the_model_are_left_out() -> None:
    summary = summarise(results(), MODEL_NODES)
    # ex:ontologyNode has a label but no unit: one warning, not the model's.
    assert summary.about_ontology == 1
    only_c = summarise(results(), {URIRef("http://example.org/c")})
    assert only_c.conforms and only_c.groups == {}
    assert only_c.about_ontology == 5
    assert only_c.lines()[0].startswith("SHACL: the model conforms to Brick's shapes: 0 violations")


def test_a_result_about_a_qudt_unit_is_left_out_and_names_are_replaced_as_whole_terms() -> None:
    report = rdflib.Graph().parse(
        format="turtle",
        data="""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
[] a sh:ValidationResult ; sh:focusNode ex:a ; sh:value <http://qudt.org/vocab/unit/KiloW> ;
   sh:resultSeverity sh:Violation ; sh:sourceShape ex:UnitShape ;
   sh:resultMessage "Value is not an instance of class qudt:Unit" .
[] a sh:ValidationResult ; sh:focusNode ex:a ; sh:value ex:a_count ;
   sh:resultSeverity sh:Violation ; sh:sourceShape ex:PointShape ;
   sh:resultMessage "Value <http://example.org/a_count> of ex:a is not a Point" .
""",
    )
    summary = summarise(report, MODEL_NODES)
    assert summary.unverifiable == 1
    [group] = summary.to_json()["groups"]
    assert group["message"] == "Value <value> of <focus node> is not a Point"
    assert group["shape"] == "ex:PointShape"
