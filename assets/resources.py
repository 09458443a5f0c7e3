"""The one resource every asset uses: the workspace's `Settings` and its warehouse.

The resource holds a `Settings` as it is, so there is one list of what a workspace is (`instep.settings`).
`dagster dev` builds it from the `INSTEP_*` environment variables; tests and the command line from their
own `Settings`. Assets and checks take it as `instep: Workspace` (a `ResourceParam`, since it is a plain
object rather than Dagster config).
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb

from instep.settings import Settings
from instep.warehouse import WarehouseBusy, bounded_memory, connect

# Progress lines for people watching a run from the command line; assets also log them to Dagster.
progress_log = logging.getLogger("instep.pipeline")

# How long a step waits for another run to finish writing the warehouse.
LOCK_WAIT_SECONDS = 900.0


@dataclass(frozen=True)
class InstepWorkspace:
    """The steward's workspace: registry, inbox, archive, reports, warehouse, site build, and releases.

    `as_of_fixed` False: the reporting date is the day of each run, not the day the code location was
    loaded (what `dagster dev` wants when INSTEP_AS_OF is not set).
    """

    workspace_settings: Settings
    as_of_fixed: bool = True
    lock_wait_seconds: float = LOCK_WAIT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, *, as_of_fixed: bool = True) -> InstepWorkspace:
        return cls(settings, as_of_fixed=as_of_fixed)

    @classmethod
    def from_env(cls) -> InstepWorkspace:
        """Defaults that work out of the box: `var/` and `datapackages/` in the repository."""
        return cls(Settings.from_env(), as_of_fixed=bool(os.environ.get("INSTEP_AS_OF")))

    def settings(self) -> Settings:
        if self.as_of_fixed:
            return self.workspace_settings
        return self.workspace_settings.with_(as_of=date.today())

    @contextmanager
    def warehouse(self, *, bounded: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse, holding the single-writer lock; waits while another run is writing.

        `bounded`: for a step that scans whole ledger tables (a check, disclosure's plan), DuckDB's
        memory is limited (`instep.warehouse.bounded_memory`): it spills instead of holding the tables.
        """
        settings = self.settings()
        deadline = time.monotonic() + self.lock_wait_seconds
        with ExitStack() as stack:
            while True:
                try:
                    con = stack.enter_context(connect(settings))
                    break
                except WarehouseBusy:
                    if time.monotonic() >= deadline:
                        raise
                    progress_log.info("waiting for another run to finish writing the warehouse")
            if bounded:
                stack.enter_context(bounded_memory(con))
            yield con


# What an asset, check or sensor names as its `instep` parameter.
Workspace = dg.ResourceParam[InstepWorkspace]


@contextmanager
def imports_frozen() -> Iterator[None]:
    """Keep the garbage collector off the objects that exist when a run starts, until it ends.

    The code location's imports (Dagster, DuckDB, pandas, Great Expectations) leave some 400,000
    objects that live as long as the process. Every full collection during a run scanned them all,
    which cost an incremental run more time than several of its steps. Frozen (`gc.freeze`), they are
    skipped; unfrozen when the run ends, so a process that runs many (`dagster dev`) collects them as
    before. A freeze already in place (another run's in the same process, or the process's own) is left
    as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def workspace_resource(workspace: InstepWorkspace) -> dg.ResourceDefinition:
    """The `instep` resource of the code location: `workspace`, with the imports frozen while a run (or
    a sensor's tick) uses it."""

    @dg.resource(description=InstepWorkspace.__doc__)
    def instep(_context: dg.InitResourceContext) -> Iterator[InstepWorkspace]:
        with imports_frozen():
            yield workspace

    return instep
