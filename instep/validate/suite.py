"""Judging prepared rows with the Great Expectations submission suite.

The suite is the definition of the rules. Its expectations that DuckDB can evaluate as the pandas engine
does (`expectations.sql`: nulls, sets, bounds, column pairs, compound keys, plain regular expressions)
run as one set-based query on the prepared rows where they already are, in DuckDB; the rest (regular
expressions with character classes, which DuckDB's RE2 and Python's `re` read differently) run in Great
Expectations on a pandas frame of the few columns they read, in worker processes for a large chunk.
Building a frame of every prepared column and judging all expectations in pandas took about half of the
validate stage at national scale (64 of 137 s in a profiled run); the SQL and the narrow frame take
about a seventh of that.

The same function serves the pipeline (rows staged in the warehouse) and `instep check` (rows of a file
in a throw-away in-memory database), so a factory sees exactly the verdict the pipeline will reach.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expectations import ROW_RESULT_FORMAT, flagged_rows
from expectations.frames import arrow_to_frame
from expectations.history import add_history_columns
from expectations.relations import add_relation_columns
from expectations.sql import (
    column_types,
    compilable,
    compile_suite,
    create_value_sets,
    drop_value_sets,
    expectation_columns,
)
from expectations.submission_suite import SUITE_NAME
from instep.metadata.ledger import ROW_ISSUES
from instep.validate.prepare import PREPARE_SQL, month_index, register_validation_reference
from instep.workers import can_fork, forked_pool

# Usage statistics would be a request leaving the machine; the pipeline runs offline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@dataclass(frozen=True)
class ValidationOutcome:
    """Issues found (one row per failed rule on a row) and the prepared rows they refer to."""

    issues: pd.DataFrame  # submission_id, row_number, column, rule
    prepared_table: str
    # Wall-clock seconds of each phase (PHASES), for the stage's metadata and the benchmark.
    seconds: dict[str, float] = field(default_factory=dict)


# The phases of judging a chunk: text parsed and joined in DuckDB, cross-row columns (part and whole,
# history), the expectations DuckDB evaluates, the narrow frame for pandas, the expectations judged there.
PHASES = (
    "prepare",
    "cross_row_columns",
    "expectations_in_duckdb",
    "frame_for_pandas",
    "expectations_in_pandas",
)


@functools.lru_cache(maxsize=1)
def _expectations(facility_ids: tuple[str, ...], as_of: date) -> tuple[Any, ...]:
    """The submission suite's expectations for a registry and reporting date, in the suite's order."""
    from expectations.submission_suite import submission_expectations

    as_of_day = (as_of - date(1970, 1, 1)).days
    return tuple(submission_expectations(facility_ids, month_index(as_of), as_of_day))


@functools.lru_cache(maxsize=2)
def _suite_on_dataframes(
    facility_ids: tuple[str, ...], as_of: date, everything: bool = False
) -> tuple[Any, Any]:
    """The GX context's suite and batch definition for a registry and reporting month: the expectations
    that are not evaluated in DuckDB (`everything`: all of them, the reference for tests).

    Kept between calls: a large inbox is settled in chunks, and building the context and the suite costs
    about half a second each time, more than validating a small chunk.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for expectation in _expectations(facility_ids, as_of):
        if everything or not compilable(expectation):
            suite.add_expectation(expectation.copy(update={"id": None}))
    suite = context.suites.add(suite)
    batch_definition = (
        context.data_sources.add_pandas("submissions")
        .add_dataframe_asset("prepared_rows")
        .add_batch_definition_whole_dataframe("all_rows")
    )
    return suite, batch_definition


def _run_suite(
    prepared: pd.DataFrame, facility_ids: tuple[str, ...], as_of: date, everything: bool = False
) -> pd.DataFrame:
    suite, batch_definition = _suite_on_dataframes(facility_ids, as_of, everything)
    if not suite.expectations:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": prepared})
    result = batch.validate(suite, result_format=ROW_RESULT_FORMAT)
    found = [
        {
            "submission_id": submission_id,
            "row_number": row_number,
            "column": meta.get("column", ""),
            "rule": meta["rule"],
        }
        for meta, submission_id, row_number in flagged_rows(result, "rule")
    ]
    return pd.DataFrame(found, columns=ISSUE_COLUMNS)


# The key of an issue; describe_issues adds its value, expectation and message.
ISSUE_COLUMNS = list(ROW_ISSUES.field_names[:4])
# Below this many rows a chunk is judged in this process: a second process costs more than it saves.
PARALLEL_MIN_ROWS = 100_000


def _judge_part(arrow_stream: pa.Buffer, facility_ids: tuple[str, ...], as_of: date) -> pd.DataFrame:
    """Worker: the suite on one part of the prepared rows, sent as an Arrow IPC stream."""
    with pa.ipc.open_stream(arrow_stream) as reader:
        part = reader.read_all()
    return _run_suite(arrow_to_frame(part), facility_ids, as_of, False)


def _ipc_stream(table: pa.Table) -> pa.Buffer:
    # An IPC stream holds only the slice's rows (a pickled slice may carry its parent's whole buffers).
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def file_boundaries(submission_ids: pa.ChunkedArray | pa.Array, parts: int) -> list[int]:
    """Row offsets that cut rows ordered by file into up to `parts` runs of whole files, about equal."""
    count = len(submission_ids)
    if parts < 2 or count < 2:
        return [0, count]
    ids = submission_ids.combine_chunks() if isinstance(submission_ids, pa.ChunkedArray) else submission_ids
    changes = pc.not_equal(ids.slice(1), ids.slice(0, count - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(changes) + 1  # the first row of every file but the first
    cuts = {0, count}
    for part in range(1, parts):
        at = int(np.searchsorted(starts, count * part // parts))
        if at < len(starts):
            cuts.add(int(starts[at]))
    return sorted(cuts)


class SuiteRunner:
    """Runs the expectations of the submission suite left to pandas (those DuckDB does not evaluate, see
    `validate_staged`) on prepared rows; on a multi-core machine, a large chunk is cut into runs of whole
    files judged side by side in forked worker processes.

    Every expectation of the suite judges a row, or a key that includes the file (duplicates within a
    file), so the parts together flag exactly the rows that judging the chunk at once flags. Use it as a
    context manager: the workers are kept for every chunk of a batch.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> SuiteRunner:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def judge(self, prepared: pa.Table, facility_ids: tuple[str, ...], as_of: date) -> pd.DataFrame:
        """Issues (submission_id, row_number, column, rule) of the prepared rows, one per failed rule."""
        if self.workers < 2 or prepared.num_rows < PARALLEL_MIN_ROWS or not can_fork():
            issues = _run_suite(arrow_to_frame(prepared), facility_ids, as_of, False)
        else:
            cuts = file_boundaries(prepared.column("submission_id"), self.workers)
            if self._pool is None:
                # The suite is built before the fork, so the workers start with it.
                _suite_on_dataframes(facility_ids, as_of, False)
                self._pool = forked_pool(self.workers)
            futures = [
                self._pool.submit(_judge_part, _ipc_stream(prepared.slice(a, b - a)), facility_ids, as_of)
                for a, b in itertools.pairwise(cuts)
            ]
            issues = pd.concat([future.result() for future in futures], ignore_index=True)
        return without_generic_value_issues(issues.drop_duplicates(ignore_index=True))


# Rules that say what is wrong with a value more precisely than "not a number".
SPECIFIC_VALUE_RULES = ("formula_without_result", "decimal_comma", "thousands_separator")


def without_generic_value_issues(issues: pd.DataFrame) -> pd.DataFrame:
    """Drop `not_a_number` on rows that a more specific value rule already explains."""
    keys = ["submission_id", "row_number"]
    explained = issues.loc[issues["rule"].isin(SPECIFIC_VALUE_RULES), keys].drop_duplicates()
    generic = issues["rule"] == "not_a_number"
    marked = issues[keys].merge(explained.assign(_explained=True), how="left", on=keys)["_explained"]
    keep = ~(generic.to_numpy() & marked.fillna(False).astype(bool).to_numpy())
    return issues[keep].reset_index(drop=True)


# The columns that name an issue's row, and order the rows of a chunk (the parts of a chunk are runs of
# whole files in this order).
ROW_KEYS = ("submission_id", "file_seq", "row_number")


def sql_issues(
    con: duckdb.DuckDBPyConnection, prepared_table: str, facility_ids: tuple[str, ...], as_of: date
) -> pd.DataFrame:
    """Issues of the suite's expectations that DuckDB evaluates, on the rows of `prepared_table`."""
    expectations = _expectations(facility_ids, as_of)
    compiled = compile_suite(
        expectations, prepared_table, column_types(con, prepared_table), keys=ROW_KEYS, prefix="_v_set"
    )
    rules = pd.DataFrame(
        [
            {"expectation": i, "column": e.meta.get("column", ""), "rule": e.meta["rule"]}
            for i, e in enumerate(compiled.expectations)
        ],
        columns=["expectation", "column", "rule"],
    )
    con.register("_v_sql_rules", rules)
    try:
        create_value_sets(con, compiled)
        return con.sql(
            f"""SELECT f.submission_id, f.row_number, r."column", r.rule
            FROM ({compiled.query}) AS f JOIN _v_sql_rules AS r USING (expectation)
            ORDER BY f.expectation, f.file_seq, f.row_number"""
        ).df()[ISSUE_COLUMNS]
    finally:
        con.unregister("_v_sql_rules")
        drop_value_sets(con, compiled)


def pandas_columns(facility_ids: tuple[str, ...], as_of: date) -> list[str]:
    """The prepared columns the expectations judged in pandas read, after the row keys."""
    names = dict.fromkeys(ROW_KEYS)
    for expectation in _expectations(facility_ids, as_of):
        if not compilable(expectation):
            names.update(dict.fromkeys(expectation_columns(expectation)))
    return list(names)


def validate_staged(
    con: duckdb.DuckDBPyConnection, staged_table: str, as_of: date, runner: SuiteRunner | None = None
) -> ValidationOutcome:
    """Judge the rows in `staged_table` (columns STAGED_COLUMNS) against the registry in `facilities`.

    `runner` (optional) keeps worker processes between the chunks of a batch; by default the suite runs
    with a runner of its own.
    """
    clock = _PhaseClock()
    register_validation_reference(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _v_prepared AS " + PREPARE_SQL.replace("{staged}", staged_table)
    )
    clock.lap("prepare")
    add_relation_columns(con, "_v_prepared")
    add_history_columns(con, "_v_prepared")
    clock.lap("cross_row_columns")
    if con.execute("SELECT count(*) FROM _v_prepared").fetchall()[0][0] == 0:
        return ValidationOutcome(pd.DataFrame(columns=ISSUE_COLUMNS), "_v_prepared", clock.seconds)
    facility_ids = tuple(row[0] for row in con.execute("SELECT facility_id FROM facilities").fetchall())
    in_sql = sql_issues(con, "_v_prepared", facility_ids, as_of)
    clock.lap("expectations_in_duckdb")
    columns = ", ".join(f'"{name}"' for name in pandas_columns(facility_ids, as_of))
    prepared = con.sql(f"SELECT {columns} FROM _v_prepared ORDER BY file_seq, row_number").to_arrow_table()
    clock.lap("frame_for_pandas")
    if runner is None:
        with SuiteRunner() as own:
            in_pandas = own.judge(prepared, facility_ids, as_of)
    else:
        in_pandas = runner.judge(prepared, facility_ids, as_of)
    issues = pd.concat([in_sql, in_pandas], ignore_index=True)
    clock.lap("expectations_in_pandas")
    return ValidationOutcome(
        without_generic_value_issues(issues.drop_duplicates(ignore_index=True)), "_v_prepared", clock.seconds
    )


class _PhaseClock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now


def reference_issues(con: duckdb.DuckDBPyConnection, prepared_table: str, as_of: date) -> pd.DataFrame:
    """Every expectation of the suite judged by Great Expectations on a pandas frame of all prepared
    columns: what the split between DuckDB and pandas must reproduce (for tests)."""
    facility_ids = tuple(row[0] for row in con.execute("SELECT facility_id FROM facilities").fetchall())
    frame = arrow_to_frame(
        con.sql(f"SELECT * FROM {prepared_table} ORDER BY file_seq, row_number").to_arrow_table()
    )
    issues = _run_suite(frame, facility_ids, as_of, everything=True)
    return without_generic_value_issues(issues.drop_duplicates(ignore_index=True))
