"""The code location's `instep` resource: the objects of the imports are frozen out of the garbage
collector while a run (or a sensor's tick) uses the workspace, and collected again when it ends."""

from __future__ import annotations

import gc

import dagster as dg

from assets.resources import InstepWorkspace, imports_frozen
from instep.settings import Settings
from pipelines.definitions import build_defs


def test_a_run_freezes_the_imports_and_unfreezes_them_when_it_ends(workspace: Settings):
    assert gc.get_freeze_count() == 0
    with dg.build_resources({"instep": build_defs(workspace).resources["instep"]}) as resources:
        assert isinstance(resources.instep, InstepWorkspace)
        assert resources.instep.settings() == workspace
        assert gc.get_freeze_count() > 100_000  # the imports: Dagster, DuckDB, pandas...
    assert gc.get_freeze_count() == 0


def test_a_freeze_already_in_place_is_left_as_it_is():
    with imports_frozen():
        frozen = gc.get_freeze_count()
        with imports_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # the inner one did not end the outer one's freeze
    assert gc.get_freeze_count() == 0
