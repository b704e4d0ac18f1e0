"""The dashboard's ontology view: an entity type's inherited relationships out and in, each
linking to the type at the other end, so the graph can be walked by clicking."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from gateway.http import requires_scope, services
from shared.ontology.service import Ontology

routes = web.RouteTableDef()


def edges(objects: list[dict[str, Any]], far_end: str) -> list[dict[str, str]]:
    """Each object as a row: its relation, its own id, and the type at ``far_end``."""
    rows = []
    for found in objects:
        object_id = next(k for k in found if k not in ("id", "brickMetadata"))
        meta = found[object_id]["brickMetadata"]
        rows.append(
            {
                "object": object_id,
                "relation": meta["brickRelationshipName"],
                "inverse": meta["brickInverseRelationshipName"] or "",
                "source": meta["brickSourceEntityType"],
                "destination": meta["brickDestinationEntityType"],
                "other": meta[far_end],
            }
        )
    return rows


@routes.get("/dashboard/fragments/ontology/{entity_type}")
@requires_scope("apollo_read")
@aiohttp_jinja2.template("ontology.html")
async def ontology_view(request: web.Request) -> dict[str, Any]:
    type_id = request.match_info["entity_type"]
    graph = Ontology(services(request).pool)
    owner = await graph.owner(type_id)
    out = await graph.of_entity_type(owner, type_id, ("source",))
    into = await graph.of_entity_type(owner, type_id, ("destination",))
    return {
        "type_id": type_id,
        "collection": owner,
        "out": edges(out, "brickDestinationEntityType"),
        "into": edges(into, "brickSourceEntityType"),
    }
