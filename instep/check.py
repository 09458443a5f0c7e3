"""`instep check`: the pipeline's verdict on files, without touching the warehouse.

The files are staged into an in-memory DuckDB database with the registry and validated by the very same
code and expectations as the pipeline (`instep.ingest` and `instep.validation`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from instep.ingest import settle_staged_rows, stage_new_files
from instep.registry import Registry, load_registry
from instep.report import SubmissionVerdict, verdicts_from_warehouse
from instep.warehouse import LEDGER_DDL


def check_files(paths: Sequence[Path], registry: Registry, as_of: date) -> list[SubmissionVerdict]:
    """Verdicts for the given files, in the order given (duplicates by content are reported once)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(LEDGER_DDL)
        load_registry(con, registry)
        with tempfile.TemporaryDirectory(prefix="instep-check-") as scratch:
            stage_new_files(con, Path(scratch), Path(scratch) / "archive", files=list(paths))
            settle_staged_rows(con, as_of)
        return verdicts_from_warehouse(con)
    finally:
        con.close()
