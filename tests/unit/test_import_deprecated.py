"""Old Brick class names on import (issue 22): a class the release marks deprecated with a
replacement (``owl:deprecated`` and ``brick:isReplacedBy``, kept in the type's metadata as
``replacedBy``) is imported as its replacement, and the report says so per entity."""

from __future__ import annotations

from typing import Any

import rdflib

from shared.importer.brick import Catalog
from shared.importer.plan import to_items
from shared.importer.run import Summary
from shared.importer.summary import model_lines, model_summary

MODEL = """
@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ex: <http://example.org/> .

ex:fan1 a brick:Old_Fan ; brick:hasPoint ex:s1 .
ex:fan2 a brick:Old_Fan .
ex:s1 a brick:Sensor .
ex:x1 a brick:Retired_Thing .
"""


def catalog() -> dict[str, Any]:
    types = [
        {"typeId": "B__Equipment", "class": "Equipment", "ancestors": []},
        {"typeId": "B__Fan", "class": "Fan", "ancestors": ["Equipment"]},
        {"typeId": "B__Old_Fan", "class": "Old_Fan", "ancestors": ["Equipment"],
         "replacedBy": "Fan"},
        {"typeId": "B__Sensor", "class": "Sensor", "ancestors": []},
        # Replaced by a class this release does not have: kept as it is.
        {"typeId": "B__Retired_Thing", "class": "Retired_Thing", "ancestors": [],
         "replacedBy": "Missing_Class"},
    ]  # fmt: skip
    return {
        "namespace": "https://brickschema.org/schema/Brick#",
        "release": "1.4",
        "schemaCollectionId": "Brick_1_4",
        "entityTypes": types,
        "relationshipTypes": [
            {"typeId": "B__hasPoint", "relation": "hasPoint", "pairs": [["Equipment", "Sensor"]]},
        ],
    }


def plan() -> Any:
    return to_items(rdflib.Graph().parse(data=MODEL, format="turtle"), catalog())


def test_a_deprecated_class_is_imported_as_its_replacement() -> None:
    result = plan()
    types = {item.body["id"]: item.body["entityType"] for item in result.entities}
    assert types["http://example.org/fan1"] == "B__Fan"
    assert types["http://example.org/fan2"] == "B__Fan"
    assert types["http://example.org/x1"] == "B__Retired_Thing"
    assert [(r.id, r.old, r.new) for r in result.renamed] == [
        ("http://example.org/fan1", "Old_Fan", "Fan"),
        ("http://example.org/fan2", "Old_Fan", "Fan"),
    ]
    # The class triple as the model wrote it is the entity's, not skipped, so the sum holds.
    assert result.skipped == []
    assert result.entity_triples == 4
    assert len(result.relationships) == 1  # the replacement's lineage admits the pair


def test_the_report_names_each_renamed_entity_and_counts_them() -> None:
    result = plan()
    summary = model_summary("m.ttl", result, Summary(total=4, stored=4), Summary(total=1, stored=1))
    assert summary["renamed"] == [
        {"id": "http://example.org/fan1", "from": "Old_Fan", "to": "Fan"},
        {"id": "http://example.org/fan2", "from": "Old_Fan", "to": "Fan"},
    ]
    assert (
        "summary: renamed 2: deprecated class brick:Old_Fan as brick:Fan (its replacement)"
        in model_lines(summary)
    )


def test_a_chain_of_replacements_ends_at_a_known_class() -> None:
    data = catalog()
    data["entityTypes"].append(
        {"typeId": "B__Older_Fan", "class": "Older_Fan", "ancestors": [], "replacedBy": "Old_Fan"}
    )
    known = Catalog(data)
    assert known.replacement("Older_Fan") == "Fan"
    assert known.replacement("Fan") is None
    assert known.replacement("Retired_Thing") is None
