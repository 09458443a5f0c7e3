"""`instep check`: the pipeline's verdict on files, without touching the warehouse.

The files are staged into an in-memory DuckDB database with the registry and validated by the very same
code and expectations as the pipeline (`instep.ingest` and `instep.validate`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from instep.ingest import stage_new_files
from instep.registry import Registry, load_registry
from instep.report import SubmissionVerdict, verdicts_from_warehouse
from instep.validate import settle_staged_rows
from instep.warehouse import LEDGER_DDL


def check_files(
    paths: Sequence[Path], registry: Registry, as_of: date, warehouse: Path | None = None
) -> list[SubmissionVerdict]:
    """Verdicts for the given files, in the order given (duplicates by content are reported once).

    With `warehouse` (see `accepted_history`), rows are also judged against what it has accepted for
    the same facilities: their history (implausible_change) and the wholes of their parts.
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute(LEDGER_DDL)
        load_registry(con, registry)
        with tempfile.TemporaryDirectory(prefix="instep-check-") as scratch:
            stage_new_files(con, Path(scratch), Path(scratch) / "archive", files=list(paths))
            if warehouse is not None:
                copy_accepted(con, warehouse)
            settle_staged_rows(con, as_of)
        return verdicts_from_warehouse(con)
    finally:
        con.close()


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
