"""Brick's SHACL shapes over an exported model, summarised (issue 22).

pyshacl's text report lists every result, and with Brick's and QUDT's graphs loaded beside the
model most of them are about those ontologies' own nodes (a QUDT unit, a Brick class), so even
Brick's example models "did not conform". Here results are kept only when their focus node is a
node of the model, then grouped by severity, shape and message with counts: the model conforms
when no kept result is a violation."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib import RDF, BNode, URIRef
from rdflib.term import Node

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SAMPLES = 3  # focus nodes named per group
QUDT = "http://qudt.org/"
PREFIXES = {
    "brick": "https://brickschema.org/schema/Brick#",
    "bsh": "https://brickschema.org/schema/BrickShape#",
    "qudt": "http://qudt.org/schema/qudt/",
    "unit": "http://qudt.org/vocab/unit/",
    "rec": "https://w3id.org/rec#",
}
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str
    shape: str
    message: str


@dataclass
class ShaclSummary:
    groups: Counter[Finding] = field(default_factory=Counter)
    samples: dict[Finding, list[str]] = field(default_factory=dict)
    about_ontology: int = 0  # results whose focus node is not the model's, left out
    # Results about a QUDT unit or quantity kind: QUDT's vocabulary is not shipped (brickschema
    # would fetch it), so "unit:KiloW is not a qudt:Unit" says nothing about the model.
    unverifiable: int = 0

    @property
    def conforms(self) -> bool:
        return not self.count("Violation")

    def count(self, severity: str) -> int:
        return sum(n for finding, n in self.groups.items() if finding.severity == severity)

    def ordered(self) -> list[tuple[Finding, int]]:
        return sorted(
            self.groups.items(),
            key=lambda item: (SEVERITIES.index(item[0].severity), -item[1], item[0].shape),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "violations": self.count("Violation"),
            "warnings": self.count("Warning"),
            "infos": self.count("Info"),
            "aboutOntologyLeftOut": self.about_ontology,
            "aboutQudtLeftOut": self.unverifiable,
            "groups": [
                {
                    "severity": finding.severity,
                    "shape": finding.shape,
                    "message": finding.message,
                    "count": n,
                    "focusNodes": self.samples[finding],
                }
                for finding, n in self.ordered()
            ],
        }

    def lines(self) -> list[str]:
        verdict = "conforms" if self.conforms else "does not conform"
        lines = [
            f"SHACL: the model {verdict} to Brick's shapes: {self.count('Violation')} "
            f"violations, {self.count('Warning')} warnings, {self.count('Info')} infos "
            f"(left out: {self.about_ontology} results about the Brick and QUDT ontologies "
            f"themselves, {self.unverifiable} about QUDT units, whose vocabulary is not loaded)"
        ]
        for finding, n in self.ordered():
            shown = ", ".join(self.samples[finding])
            more = ", ..." if n > len(self.samples[finding]) else ""
            lines.append(f"  {finding.severity} x{n}: {finding.shape}: {finding.message}")
            lines.append(f"    e.g. {shown}{more}")
        return lines


def _name(graph: rdflib.Graph, term: Node | None) -> str:
    if term is None:
        return "-"
    if isinstance(term, BNode):
        return "(anonymous)"
    try:
        return str(term.n3(graph.namespace_manager))
    except Exception:  # a term rdflib cannot abbreviate
        return str(term)


def _shape(results: rdflib.Graph, result: Node) -> str:
    """A named shape as itself; an anonymous one by its constraint and path."""
    shape = results.value(result, SH.sourceShape)
    if isinstance(shape, URIRef):
        return _name(results, shape)
    component = _name(results, results.value(result, SH.sourceConstraintComponent))
    path = results.value(result, SH.resultPath)
    return f"{component} on {_name(results, path)}" if path is not None else component


def _generic(results: rdflib.Graph, result: Node, message: str) -> str:
    """The message without the nodes it names (pyshacl's own messages name the focus node and
    the value), so that the same finding on many nodes is one group."""
    for role, placeholder in ((SH.focusNode, "<focus node>"), (SH.value, "<value>")):
        term = results.value(result, role)
        if term is None or isinstance(term, BNode):
            continue
        for form in (f"<{term}>", _name(results, term), str(term)):
            # As a whole term only: ex:a is not part of ex:a_b.
            pattern = rf"(?<![\w:#/<]){re.escape(form)}(?![\w./#>]|-(?!>))"
            message = re.sub(pattern, placeholder, message)
    return message


def summarise(results: rdflib.Graph, model_nodes: set[Node]) -> ShaclSummary:
    """Group the results of a validation report graph; ``model_nodes`` are the model's own."""
    summary = ShaclSummary()
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        if focus not in model_nodes:
            summary.about_ontology += 1
            continue
        value = results.value(result, SH.value)
        if isinstance(value, URIRef) and str(value).startswith(QUDT):
            summary.unverifiable += 1
            continue
        severity = results.value(result, SH.resultSeverity)
        message = results.value(result, SH.resultMessage)
        finding = Finding(
            str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            _shape(results, result),
            _generic(results, result, str(message)) if message is not None else "(no message)",
        )
        summary.groups[finding] += 1
        samples = summary.samples.setdefault(finding, [])
        if len(samples) < SAMPLES and _name(results, focus) not in samples:
            samples.append(_name(results, focus))
    return summary


def validate(turtle: bytes, release: str | None = None) -> ShaclSummary:
    """Validate a model with Brick's shapes for its release (Brick and QUDT loaded beside it)."""
    import brickschema

    model = rdflib.Graph().parse(data=turtle.decode(), format="turtle")
    nodes: set[Node] = {s for s in model.subjects() if isinstance(s, URIRef)}
    graph = brickschema.Graph(brick_version=release or "1.4", load_brick=True)
    graph.parse(data=turtle.decode(), format="turtle")
    _, results, _ = graph.validate()
    for prefix, namespace in [*model.namespaces(), *PREFIXES.items()]:
        results.bind(prefix, namespace, override=False)
    return summarise(results, nodes)
