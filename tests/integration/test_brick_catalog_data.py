"""The cut-down catalog the unit tests map a real model onto is still what Brick 1.4 gives,
and the model maps onto it exactly as onto the whole release (here, not in the unit tier:
generating a release takes seconds)."""

from __future__ import annotations

import json

import rdflib

from shared.importer.plan import to_items
from tests.brick_catalog import CATALOGS, model_catalog, release_catalog
from tests.import_helpers import BRICK_MODELS


def test_the_kept_lighting_catalog_is_brick_1_4s_and_maps_the_model_as_the_whole_does() -> None:
    model = BRICK_MODELS / "lighting.ttl"
    whole = release_catalog("1.4")
    kept = json.loads((CATALOGS / "lighting-1.4.json").read_text())
    assert model_catalog(model, whole) == kept
    graph = rdflib.Graph().parse(model)
    assert to_items(graph, kept) == to_items(graph, whole)
