"""What a client wrote comes back as written: stored documents keep the author's key order."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from shared.services import Services
from tests.conftest import TokenFactory, bearer
from tests.er_helpers import ALL_SCOPES, two_collections, upsert_ok
from tests.registry_helpers import BASE, RunJobs, create_org, register


async def test_registered_schema_keeps_its_key_order(
    client: TestClient, make_token: TokenFactory, run_jobs: RunJobs
) -> None:
    token = await make_token("alice", "view", "modify")
    await create_org(client, token, "order.org")
    # jsonb would serve these shortest key first, then alphabetically.
    schema = {
        "$id": "order.org-Ordered-1.0.0",
        "title": "Ordered",
        "type": "object",
        "properties": {"zebra": {"type": "string"}, "id": {"type": "string"}},
    }
    await register(client, token, run_jobs, schema)
    response = await client.get(
        f"{BASE}/schema/type/registered/order.org-Ordered-1.0.0", headers=bearer(token)
    )
    served = await response.json()
    assert list(served) == list(schema)
    assert list(served["properties"]) == ["zebra", "id"]


async def test_entity_keeps_its_key_order(
    client: TestClient, services: Services, make_token: TokenFactory, background_worker: None
) -> None:
    token = await make_token("alice", *ALL_SCOPES)
    ns = await two_collections(client, services.pool, token)
    item = {
        "id": "e1",
        "entityType": f"{ns}__AHU",
        "entityName": "north wing",
        "customData": {"zone": "B", "floor": 3},
    }
    await upsert_ok(client, token, "entities", "august_14_81", [item])
    response = await client.get(
        "/apollo/er/entities/e1", headers={**bearer(token), "ercollectionid": "august_14_81"}
    )
    [served] = (await response.json())["data"]  # by id: a one-element list, as the docs show
    assert list(served)[:4] == list(item)
    assert list(served["customData"]) == ["zone", "floor"]
