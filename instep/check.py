"""`instep check`: the pipeline's verdict on files, without touching the warehouse.

The files are staged into an in-memory DuckDB database with the registry and validated by the very same
code and expectations as the pipeline (`instep.ingest` and `instep.validate`).

A factory usually has no copy of the programme's registry: without one, every rule but the two that
need it (`expectations.REGISTRY_RULES`) is checked, and each verdict says so.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from expectations import REGISTRY_RULES
from instep.ingest import stage_new_files
from instep.registry import Registry, load_registry, read_facilities, read_registry
from instep.report import SubmissionVerdict, verdicts_from_warehouse
from instep.validate import settle_staged_rows
from instep.warehouse import LEDGER_DDL

NO_REGISTRY = "facility ids not checked: no registry"
NO_REGISTRY_DETAIL = (
    f"the rules {' and '.join(REGISTRY_RULES)} need the programme's facilities.csv "
    "(instep check --registry facilities.csv FILE checks them too)"
)


def read_check_registry(path: Path) -> Registry:
    """The registry to check facility ids against: a registry folder (parks.csv and facilities.csv), or
    a facilities.csv alone. Raises RegistryError naming what is wrong."""
    if path.is_dir():
        return read_registry(path)
    return Registry(parks=[], facilities=read_facilities(path))


def check_files(
    paths: Sequence[Path], registry: Registry | None, as_of: date, warehouse: Path | None = None
) -> list[SubmissionVerdict]:
    """Verdicts for the given files, in the order given (duplicates by content are reported once).

    Without a `registry`, every facility id in the files counts as known and active (and the verdicts
    say that ids were not checked). With `warehouse` (see `accepted_history`), rows are also judged
    against what it has accepted for the same facilities: their history (implausible_change) and the
    wholes of their parts.
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute(LEDGER_DDL)
        load_registry(con, registry or Registry(parks=[], facilities=[]))
        with tempfile.TemporaryDirectory(prefix="instep-check-") as scratch:
            stage_new_files(con, Path(scratch), Path(scratch) / "archive", files=list(paths))
            if registry is None:
                accept_every_facility_id(con)
            if warehouse is not None:
                copy_accepted(con, warehouse)
            settle_staged_rows(con, as_of)
        verdicts = verdicts_from_warehouse(con)
    finally:
        con.close()
    if registry is None:
        verdicts = [v if v.unreadable else dataclasses.replace(v, not_checked=NO_REGISTRY) for v in verdicts]
    return verdicts


def accept_every_facility_id(con: duckdb.DuckDBPyConnection) -> None:
    """Stand-in registry entries for the staged rows' facility ids: known, in no park, always active.

    The rows are then judged by every rule of the suite except the two that need the real registry.
    """
    con.execute(
        """
        INSERT INTO facilities (facility_id, park_id, name, type, disclosure, active_from)
        SELECT DISTINCT NULLIF(trim(facility_id), ''), '', '', 'factory', 'public', DATE '0001-01-01'
        FROM staged_rows WHERE NULLIF(trim(facility_id), '') IS NOT NULL
        """
    )


def accepted_history(warehouse: Path) -> str | None:
    """None when the warehouse can be read for the comparison, else why not (for the report)."""
    if not warehouse.is_file():
        return "no warehouse in the workspace"
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as error:
        return f"the warehouse could not be opened ({error.__class__.__name__})"
    con.close()
    return None


def copy_accepted(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """The warehouse's accepted values of the staged files' facilities, into the check's own database."""
    con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
    try:
        con.execute(
            "INSERT INTO observations SELECT o.* FROM wh.observations AS o "
            "WHERE o.facility_id IN (SELECT DISTINCT trim(facility_id) FROM staged_rows)"
        )
    finally:
        con.execute("DETACH wh")
