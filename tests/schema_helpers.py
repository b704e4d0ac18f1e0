"""Helpers for the schema service tests: small hand-made releases and the calls every test makes."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, bearer

API = "/apollo/schema"
ADMIN = ("apollo_read", "apollo_admin")


async def admin_headers(make_token: TokenFactory, name: str = "alice") -> dict[str, str]:
    return bearer(await make_token(name, *ADMIN))


def entity(name: str, *parents: str, tags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "parents": list(parents), "tags": tags or [name], **extra}


def release(version: str, *, line: str = "acme", **changes: Any) -> dict[str, Any]:
    """A small release: Equipment > HVAC_Equipment > AHU, Point > Sensor, Location > Building."""
    bundle: dict[str, Any] = {
        "releaseLine": line,
        "version": version,
        "entitytypes": [
            entity("Equipment", tags=["Equipment"]),
            entity("HVAC_Equipment", "Equipment", tags=["HVAC", "Equipment"]),
            entity("AHU", "HVAC_Equipment", tags=["AHU", "Equipment"], definition="Air handler"),
            entity("Point", tags=["Point"]),
            entity("Sensor", "Point", tags=["Sensor", "Point"]),
            entity("Location", tags=["Location"]),
            entity("Building", "Location", tags=["Building", "Location"]),
            entity("Building_Sensor", "Sensor", tags=["Building", "Sensor", "Point"]),
        ],
        "relationshiptypes": [
            {
                "relation": "feeds",
                "pairs": [
                    {"source": "Equipment", "destination": "Equipment"},
                    {"source": "AHU", "destination": "Building"},
                ],
            },
            {"relation": "hasPoint", "pairs": [{"source": "Equipment", "destination": "Point"}]},
        ],
    }
    for key, value in changes.items():
        bundle[key] = value
    return bundle


async def publish(client: TestClient, headers: dict[str, str], bundle: Any) -> Any:
    response = await client.post(f"{API}/releases", json=bundle, headers=headers)
    assert response.status in (200, 201), await response.text()
    return await response.json()


async def create_collection(
    client: TestClient, headers: dict[str, str], collection_id: str, **fields: Any
) -> dict[str, Any]:
    body = {"schemaCollectionId": collection_id, **fields}
    response = await client.post(f"{API}/schemacollections", json=body, headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["data"]


async def sync(
    client: TestClient,
    headers: dict[str, str],
    collection_id: str,
    schema_type: str = "entitytypes",
    expect: int = 200,
    **fields: Any,
) -> dict[str, Any]:
    """A waiting sync call; returns the collection's sync response (or the error body)."""
    body = {"schemaType": schema_type, "schemaCollectionId": collection_id, **fields}
    response = await client.post(f"{API}/sync", json=body, headers=headers)
    payload = await response.json()
    assert response.status == expect, payload
    if expect != 200:
        return payload
    [entry] = payload["data"][schema_type]
    assert entry["collId"].lower() == collection_id.lower()
    return entry["response"]


async def get_all(
    client: TestClient, path: str, headers: dict[str, str], size: int = 100
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every item of a paged list, following continuation tokens; also each page's paging."""
    items: list[Any] = []
    pagings: list[dict[str, Any]] = []
    token = None
    while True:
        page_headers = {**headers, **({"continuationToken": token} if token else {})}
        separator = "&" if "?" in path else "?"
        response = await client.get(f"{path}{separator}size={size}", headers=page_headers)
        body = await response.json()
        assert response.status == 200, body
        items += body["data"]
        pagings.append(body["paging"])
        token = body["paging"]["continuationToken"]
        if token is None:
            return items, pagings
