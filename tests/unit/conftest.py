"""The unit tier: pure code only. Nothing here may ask for a fixture that starts PostgreSQL,
Redis or a process (``settings``, ``services``, ``client``...): ``make test-unit`` runs this
folder alone, without servers, in a few seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.er import validation


@pytest.fixture(autouse=True)
def fresh_process_caches() -> Iterator[None]:
    """Each test starts with empty process-wide memos, so none passes on what another left
    behind (mutation runs fork a process that has already run every test once)."""
    validation._ENTITY_DERIVED.clear()
    validation.VALIDATORS._validators.clear()
    yield
