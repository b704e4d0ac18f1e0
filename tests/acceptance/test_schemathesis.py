"""schemathesis against a live system: the real gateway on a real port, a real worker, real
PostgreSQL and Redis (tests/live_system.py). No operation may answer with a server error.

Every handler gets EXAMPLES positive and EXAMPLES negative cases (a handler served under several
alias paths is fuzzed under its first), then the same again with the seeded collection,
organization and entity filled in, so that generated bodies and queries reach the code behind
"not found". The run stays within a minute or two. A synchronous call that waits for its job
answers 504 when the wait runs out, by design (the job goes on and the answer names its token):
that 504 is the one 5xx allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from shared.settings import Settings
from tests.live_system import LiveSystem, Seeds, live_system

# BRICKYARD_FUZZ_EXAMPLES=200 for a deeper run by hand.
EXAMPLES = int(os.environ.get("BRICKYARD_FUZZ_EXAMPLES", "15"))
# gateway.openapi numbers the second and later paths of one handler: name_2, name_3...
ALIAS = re.compile(r"_\d+$")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def live(
    service_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveSystem, schemathesis.BaseSchema]]:
    with live_system(service_settings, tmp_path_factory.mktemp("live-logs")) as system:
        config = schemathesis.Config.from_dict(
            {
                "base-url": system.base_url,
                "headers": {"Authorization": f"Bearer {system.token}"},
                "generation": {"max-examples": EXAMPLES},
            }
        )
        schema = schemathesis.openapi.from_url(system.base_url + "/openapi.json", config=config)
        yield system, schema


def seeded(operation: schemathesis.APIOperation, seeds: Seeds) -> dict[str, Any] | None:
    """Fixed values that name the seeded data, for the parameters ``operation`` has."""
    path, headers, query = {}, {}, {}
    for parameter in operation.definition.raw.get("parameters", []):
        name, place = parameter["name"], parameter["in"]
        if place == "path" and name == "collection_id":
            path[name] = seeds.schema_collection
        elif place == "path" and name == "id":
            if operation.path.startswith("/repo/v1/schema/organization"):
                path[name] = seeds.organization_id
            elif "/ercollections/" in operation.path:
                path[name] = seeds.er_collection
            else:
                path[name] = seeds.entity
        elif place == "path" and name == "type":
            path[name] = seeds.entity_type
        elif place == "header" and name == "ercollectionid":
            headers[name] = seeds.er_collection
        elif place == "query" and name == "name":
            query[name] = seeds.organization
    if not (path or headers or query):
        return None
    return {"path_parameters": path, "headers": headers, "query": query}


def server_error(response: schemathesis.Response) -> str | None:
    if response.status_code < 500:
        return None
    if response.status_code == 504 and "did not finish within" in response.text:
        return None  # a synchronous call's wait ran out; its job goes on (see the docstring)
    return f"{response.status_code}: {response.text[:300]}"


def exercise(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    session: requests.Session,
    fixed: dict[str, Any],
) -> list[str]:
    """The first server error ``operation`` answered to EXAMPLES generated cases, if any."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first case is enough
    )
    def run(case: schemathesis.Case) -> None:
        if found:
            return
        error = server_error(case.call(session=session, timeout=30))
        if error is not None:
            found.append(f"{case.method} {case.formatted_path} ({mode.value}) -> {error}")
            found.append(f"  {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to negate: no parameters and no body
    return found


def test_no_route_answers_with_a_server_error(
    live: tuple[LiveSystem, schemathesis.BaseSchema],
) -> None:
    system, schema = live
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not ALIAS.search(op.definition.raw["operationId"])]
    failures: list[str] = []
    with requests.Session() as session:
        for operation in operations:
            for mode in MODES:
                failures += exercise(operation, mode, session, {})
        # Deleting the seeded data would leave the later passes at "not found" again.
        for operation in (op for op in operations if op.method.upper() != "DELETE"):
            fixed = seeded(operation, system.seeds)
            for mode in MODES if fixed else ():
                failures += exercise(operation, mode, session, fixed)  # type: ignore[arg-type]
    assert not failures, "\n".join(failures)
