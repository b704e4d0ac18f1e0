"""The long-running processes tune Python's garbage collector once started (issue 21)."""

from __future__ import annotations

import gc

from shared.cli import YOUNG_COLLECTION_THRESHOLD, tune_collector


def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    threshold = gc.get_threshold()
    try:
        tune_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
