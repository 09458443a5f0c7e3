"""Judging prepared rows with the Great Expectations submission suite, in worker processes for a large
chunk.

The same function serves the pipeline (rows staged in the warehouse) and `instep check` (rows of a file
in a throw-away in-memory database), so a factory sees exactly the verdict the pipeline will reach.
"""

from __future__ import annotations

import functools
import itertools
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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


@functools.lru_cache(maxsize=1)
def _suite_on_dataframes(facility_ids: tuple[str, ...], as_of: date) -> tuple[Any, Any]:
    """The GX context's suite and batch definition for a registry and reporting month.

    Kept between calls: a large inbox is settled in chunks, and building the context and the suite costs
    about half a second each time, more than validating a small chunk.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.submission_suite import build_submission_suite

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    as_of_day = (as_of - date(1970, 1, 1)).days
    suite = context.suites.add(build_submission_suite(facility_ids, month_index(as_of), as_of_day))
    batch_definition = (
        context.data_sources.add_pandas("submissions")
        .add_dataframe_asset("prepared_rows")
        .add_batch_definition_whole_dataframe("all_rows")
    )
    return suite, batch_definition


def _run_suite(prepared: pd.DataFrame, facility_ids: tuple[str, ...], as_of: date) -> pd.DataFrame:
    suite, batch_definition = _suite_on_dataframes(facility_ids, as_of)
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
    return _run_suite(arrow_to_frame(part), facility_ids, as_of)


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
    """Runs the submission suite on prepared rows; on a multi-core machine, a large chunk is cut into runs
    of whole files judged side by side in forked worker processes.

    Every expectation judges a row, or a key that includes the file (duplicates within a file), so the
    parts together flag exactly the rows that judging the chunk at once flags. Use it as a context
    manager: the workers are kept for every chunk of a batch.
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
            issues = _run_suite(arrow_to_frame(prepared), facility_ids, as_of)
        else:
            cuts = file_boundaries(prepared.column("submission_id"), self.workers)
            if self._pool is None:
                # The suite is built before the fork, so the workers start with it.
                _suite_on_dataframes(facility_ids, as_of)
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


def validate_staged(
    con: duckdb.DuckDBPyConnection, staged_table: str, as_of: date, runner: SuiteRunner | None = None
) -> ValidationOutcome:
    """Judge the rows in `staged_table` (columns STAGED_COLUMNS) against the registry in `facilities`.

    `runner` (optional) keeps worker processes between the chunks of a batch; by default the suite runs
    with a runner of its own.
    """
    register_validation_reference(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _v_prepared AS " + PREPARE_SQL.replace("{staged}", staged_table)
    )
    add_relation_columns(con, "_v_prepared")
    add_history_columns(con, "_v_prepared")
    prepared = con.sql("SELECT * FROM _v_prepared ORDER BY file_seq, row_number").to_arrow_table()
    if prepared.num_rows == 0:
        return ValidationOutcome(pd.DataFrame(columns=ISSUE_COLUMNS), "_v_prepared")
    facility_ids = tuple(row[0] for row in con.execute("SELECT facility_id FROM facilities").fetchall())
    if runner is None:
        with SuiteRunner() as own:
            issues = own.judge(prepared, facility_ids, as_of)
    else:
        issues = runner.judge(prepared, facility_ids, as_of)
    return ValidationOutcome(issues, "_v_prepared")
