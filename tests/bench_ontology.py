"""``make bench ONLY=ontology``: the ontology graph of Brick 1.4 (issue 26).

Prints the build time (the rebuild alone, and the POST job end to end) and the p50 of an
inherited read, beside the schema service's rules route for the same type in the same run.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
from aiohttp import web

from gateway.app import create_app
from shared.auth import SCOPES, Principal
from shared.ontology.service import rebuild
from shared.services import Services
from tests.bench_support import brickyard_workers, percentile, scenario

COLLECTION, TYPE = "Onto_1_4", "ONTO_1_4__AHU"
READS = 200


async def p50_ms(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    spent = []
    for _ in range(READS):
        began = time.perf_counter()
        async with http.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 200, await response.text()
        spent.append((time.perf_counter() - began) * 1000)
    return round(percentile(spent, 0.5), 2)


@scenario("ontology graph of Brick 1.4")
async def ontology_graph(services: Services, principal: Principal) -> dict[str, Any]:
    token = await services.auth.create_token("bench", sorted(SCOPES))
    headers = {"Authorization": f"Bearer {token}"}
    runner = web.AppRunner(create_app(services.settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    figures: dict[str, Any] = {}
    try:
        async with brickyard_workers(services.settings, 1), aiohttp.ClientSession() as http:
            body = {"schemaCollectionId": COLLECTION, "release": "1.4"}
            await http.post(f"{base}/apollo/schema/schemacollections", json=body, headers=headers)
            for schema_type in ("entitytypes", "relationshiptypes"):
                body = {"schemaType": schema_type, "schemaCollectionId": COLLECTION}
                async with http.post(f"{base}/apollo/schema/sync", json=body, headers=headers) as r:
                    assert r.status == 200, await r.text()
            began = time.perf_counter()
            async with services.pool.acquire() as conn, conn.transaction():
                built = await rebuild(conn, COLLECTION)
            figures["build_s"] = round(time.perf_counter() - began, 3)
            figures["entity_types"], figures["objects"] = (
                len(built.entity_types),
                len(built.objects),
            )
            posting = {**headers, "schemaCollection": COLLECTION}
            began = time.perf_counter()
            async with http.post(
                f"{base}/apollo/ontology/entitytypes", json=[], headers=posting
            ) as r:
                job = (await r.json())["data"]["token"]
            while True:
                async with http.get(f"{base}/async/get/{job}", headers=headers) as r:
                    if r.status != 202:
                        figures["post_job_s"] = round(time.perf_counter() - began, 3)
                        figures["post_job_message"] = (await r.json())["message"]
                        break
            inherited = f"{base}/apollo/ontologygraph/entityTypes/{TYPE}"
            figures["inherited_read_p50_ms"] = await p50_ms(http, inherited, headers)
            out_only = f"{inherited}($filter=destEntityType)"
            figures["inherited_out_read_p50_ms"] = await p50_ms(http, out_only, headers)
            rules = f"{base}/apollo/schema/entitytypes/{TYPE}/relationshiptypes"
            figures["schema_rules_read_p50_ms"] = await p50_ms(http, rules, headers)
    finally:
        await runner.cleanup()
    return figures
