"""The catalog an import maps a model onto (``GET .../brick/types``), made without a server:
from a Brick release's rendered types, as ``shared/er/brick.py:brick_types`` reads them back
from a synced schema collection, cut down to what one model can reach.

``python -m tests.brick_catalog MODEL VERSION`` prints the cut-down catalog; the unit tests keep
one under tests/data/brick-catalogs/ (generating a release takes seconds, too slow for them)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import rdflib
from rdflib import RDF

from shared.importer.brick import is_brick, local_name
from shared.releases.catalog import _generate_brick, brick_files
from shared.schemas.render import ENTITY_TYPES, RELATIONSHIP_TYPES, render_release

CATALOGS = Path(__file__).parent / "data" / "brick-catalogs"


def release_catalog(version: str) -> dict[str, Any]:
    """Every type of the release, as a collection synced to it (``Brick_1_4``) lists them."""
    release = _generate_brick(brick_files()[version], version)
    namespace = "BRICK_" + version.replace(".", "_")
    entities, relationships = [], []
    for rendered in render_release(namespace, ENTITY_TYPES, release):
        meta, local = rendered.metadata or {}, rendered.type_id.split("__", 1)[-1]
        if rendered.error is None:
            entities.append(
                {
                    "typeId": rendered.type_id,
                    "class": meta.get("class") or local,
                    "ancestors": meta.get("ancestors") or [],
                    **({"replacedBy": meta["replacedBy"]} if meta.get("replacedBy") else {}),
                }
            )
    for rendered in render_release(namespace, RELATIONSHIP_TYPES, release):
        meta, local = rendered.metadata or {}, rendered.type_id.split("__", 1)[-1]
        if rendered.error is None:
            relationships.append(
                {
                    "typeId": rendered.type_id,
                    "relation": meta.get("relation") or local.split("_", 1)[0],
                    "pairs": [[p["source"], p["destination"]] for p in meta.get("pairs", [])],
                }
            )
    return {
        "schemaCollectionId": namespace.replace("BRICK", "Brick"),
        "release": version,
        "namespace": "https://brickschema.org/schema/Brick#",
        "entityTypes": entities,
        "relationshipTypes": relationships,
    }


def model_catalog(model: Path, catalog: dict[str, Any]) -> dict[str, Any]:
    """The part of ``catalog`` the model can reach: its classes with their ancestors and
    replacements, and every relationship type of the relations it uses. The mapping of the
    model onto it is the same as onto the whole catalog."""
    graph = rdflib.Graph().parse(model)
    by_class = {t["class"]: t for t in catalog["entityTypes"]}
    kept: set[str] = set()
    for name in {local_name(k) for k in graph.objects(None, RDF.type) if is_brick(k)}:
        if name in by_class:
            kept |= {name, *by_class[name]["ancestors"], by_class[name].get("replacedBy", name)}
    relations = {local_name(p) for p in graph.predicates() if is_brick(p)}
    return {
        **catalog,
        "entityTypes": [t for t in catalog["entityTypes"] if t["class"] in kept],
        "relationshipTypes": [
            t for t in catalog["relationshipTypes"] if t["relation"] in relations
        ],
    }


if __name__ == "__main__":
    path, version = Path(sys.argv[1]), sys.argv[2]
    print(json.dumps(model_catalog(path, release_catalog(version)), indent=1))
