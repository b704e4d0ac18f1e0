"""What an import did with its input, in numbers that add up: printed when it ends and kept as
the last line of its journal (``{"summary": {...}}``).

For a Brick model: triples read = in entities + in relationships + skipped, and for entities
(nodes) and relationships (triples) each, read = stored + refused, refused being those refused
here before sending plus those the server refused."""

from __future__ import annotations

from collections import Counter
from typing import Any

from shared.importer.plan import Plan
from shared.importer.run import FailureFile, Summary


def write_refusals(failures: FailureFile, plan: Plan) -> None:
    """Every node and triple of the model that is not sent, with its reason."""
    for node in plan.refused_entities:
        failures.write(None, node.id, node.reason, kind="entity")
    for rel in plan.refused_relationships:
        failures.write(None, rel.id, rel.reason, kind="relationship", triple=rel.triple)
    for skipped in plan.skipped:
        failures.write(None, skipped.id, skipped.reason, kind="skipped", triple=skipped.triple)


def _kind(read: int, refused_here: int, run: Summary) -> dict[str, int]:
    return {
        "read": read,
        "stored": run.stored,
        "refused": refused_here + run.failed,
        "refusedBeforeSending": refused_here,
        "refusedByServer": run.failed,
    }


def model_summary(
    model: str, plan: Plan, entities: Summary, relationships: Summary
) -> dict[str, Any]:
    return {
        "model": model,
        "triples": {
            "read": plan.triples,
            "inEntities": plan.entity_triples,
            "inRelationships": plan.relationships_read,
            "skipped": len(plan.skipped),
        },
        "entities": _kind(plan.entities_read, len(plan.refused_entities), entities),
        "relationships": _kind(
            plan.relationships_read, len(plan.refused_relationships), relationships
        ),
        "skipped": plan.skipped_by_reason(),
        # Per item: each entity whose deprecated class was imported as its replacement.
        "renamed": [{"id": r.id, "from": r.old, "to": r.new} for r in plan.renamed],
    }


def model_lines(summary: dict[str, Any]) -> list[str]:
    triples = summary["triples"]
    lines = [
        f"summary: triples: {triples['read']} read = {triples['inEntities']} in entities + "
        f"{triples['inRelationships']} in relationships + {triples['skipped']} skipped"
    ]
    for kind in ("entities", "relationships"):
        counts = summary[kind]
        lines.append(
            f"summary: {kind}: {counts['read']} read = {counts['stored']} stored + "
            f"{counts['refused']} refused ({counts['refusedBeforeSending']} before sending, "
            f"{counts['refusedByServer']} by the server)"
        )
    lines += [f"summary: skipped {n}: {reason}" for reason, n in summary["skipped"].items()]
    renamed = Counter(f"brick:{r['from']} as brick:{r['to']}" for r in summary.get("renamed", []))
    lines += [
        f"summary: renamed {n}: deprecated class {change} (its replacement)"
        for change, n in renamed.most_common()
    ]
    return lines


def items_summary(kind: str, run: Summary) -> dict[str, Any]:
    """An NDJSON or CSV import: read = stored + failed (the server refused them)."""
    return {"kind": kind, "read": run.total, "stored": run.stored, "failed": run.failed}
