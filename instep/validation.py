"""Validating submitted rows: parse set-based in DuckDB, judge with the Great Expectations suite.

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

from expectations import ROW_RESULT_FORMAT, flagged_rows, rule, rules
from expectations.history import HISTORY_EXPECTED_SQL, HISTORY_MESSAGE_SQL, add_history_columns
from expectations.relations import add_relation_columns, relation_expected_sql, relation_message_sql
from instep import reference, units
from instep.metadata.ledger import ROW_ISSUES, STAGED_ROWS, SUBMISSION
from instep.readers import MAX_CELL_CHARS
from instep.workers import can_fork, forked_pool

# Usage statistics would be a request leaving the machine; the pipeline runs offline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

STAGED_COLUMNS = STAGED_ROWS.field_names

STRICT_NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"

# Every submitted cell, raw (untrimmed), for the longest-cell check.
_CELL_COLUMNS = SUBMISSION.field_names
_lengths = ", ".join(f"length(coalesce({c}, ''))" for c in _CELL_COLUMNS)
_longest_column = " ".join(f"WHEN length(coalesce({c}, '')) THEN '{c}'" for c in _CELL_COLUMNS)

# One row per staged row: the submitted text (trimmed, blanks as NULL) and the parsed columns the
# expectations read. `value_number` is the number, or the detection limit x of a "<x" result.
PREPARE_SQL = f"""
WITH s AS (
    SELECT
        submission_id, file_seq, row_number,
        NULLIF(trim(facility_id), '') AS facility_id,
        NULLIF(trim(period), '') AS period,
        NULLIF(trim(metric), '') AS metric,
        NULLIF(trim(value), '') AS value,
        NULLIF(trim(unit), '') AS unit,
        NULLIF(trim(sample_point), '') AS sample_point,
        NULLIF(trim(sample_date), '') AS sample_date,
        extra_cells,
        greatest({_lengths}) AS longest_cell_chars,
        CASE greatest({_lengths}) {_longest_column} END AS longest_cell_column
    FROM {{staged}}
), parsed AS (
    SELECT
        s.*,
        regexp_full_match(s.value, '<\\s*{STRICT_NUMBER}') AS censored,
        regexp_full_match(s.value, '(<\\s*)?{STRICT_NUMBER}') AS value_is_plain_number,
        CASE WHEN regexp_full_match(s.period, '\\d{{4}}-(0[1-9]|1[0-2])')
            THEN CAST(substr(s.period, 1, 4) AS INTEGER) * 12 + CAST(substr(s.period, 6, 2) AS INTEGER) - 1
        END AS period_index,
        try_strptime(s.sample_date, '%Y-%m-%d')::DATE AS sample_day
    FROM s
)
SELECT
    p.submission_id, p.file_seq, p.row_number, p.facility_id, p.period, p.metric, p.value, p.unit,
    p.sample_point, p.sample_date, p.extra_cells, p.censored, p.value_is_plain_number,
    p.longest_cell_chars, p.longest_cell_column,
    p.period IS NOT NULL AS period_given,
    p.value IS NOT NULL AND u.factor IS NOT NULL AS value_convertible,
    m.topic,
    m.metric AS known_metric,
    CASE WHEN m.metric IS NOT NULL THEN p.metric || '|' || p.unit END AS known_metric_unit,
    p.period_index,
    date_diff('month', DATE '0001-01-01', f.active_from) + 12 AS active_from_index,
    date_diff('month', DATE '0001-01-01', f.active_to) + 12 AS active_to_index,
    -- A number that underflows to zero (1e-400) is not stored as 0: the factory wrote something else.
    CASE WHEN isfinite(n.number) AND NOT n.underflow THEN n.number END AS value_number,
    coalesce(n.underflow, false) AS value_underflow,
    -- A finite number that overflows on conversion (1e308 MWh) stays infinite: implausible, not missing.
    CASE WHEN isfinite(n.number) THEN n.number * u.factor END AS value_canonical,
    m.canonical_unit,
    m.plausible_max,
    coalesce(p.sample_point, '') AS sample_point_or_blank,
    date_diff('day', DATE '1970-01-01', p.sample_day) AS sample_day_index,
    CASE WHEN p.period_index IS NOT NULL
        THEN date_diff('day', DATE '1970-01-01', make_date(p.period_index // 12, p.period_index % 12 + 1, 1))
    END AS period_day_index,
    -- The key of a restatement or duplicate: the sample identifies a value only for wastewater results,
    -- and a sample date counts as the date it names, however it was written (2025-3-5 is 2025-03-05).
    CASE WHEN m.topic = 'wastewater' THEN coalesce(p.sample_point, '') ELSE '' END AS sample_point_key,
    CASE WHEN m.topic = 'wastewater'
        THEN coalesce(strftime(p.sample_day, '%Y-%m-%d'), p.sample_date, '') ELSE ''
    END AS sample_date_key
FROM parsed AS p
LEFT JOIN facilities AS f ON f.facility_id = p.facility_id
LEFT JOIN _v_metrics AS m ON m.metric = p.metric
LEFT JOIN _v_unit_factors AS u ON u.metric = p.metric AND u.unit = p.unit
CROSS JOIN LATERAL (
    SELECT number, number = 0 AND regexp_matches(regexp_extract(p.value, '^[^eE]*'), '[1-9]') AS underflow
    FROM (SELECT CASE WHEN p.value_is_plain_number
        THEN TRY_CAST(regexp_replace(p.value, '^<\\s*', '') AS DOUBLE)
    END AS number)
) AS n
"""


@dataclass(frozen=True)
class ValidationOutcome:
    """Issues found (one row per failed rule on a row) and the prepared rows they refer to."""

    issues: pd.DataFrame  # submission_id, row_number, column, rule
    prepared_table: str


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def register_validation_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary lookup tables the preparation joins: catalogue limits and unit factors."""
    metrics = pd.DataFrame(
        [
            {
                "metric": m.code,
                "topic": m.topic,
                "canonical_unit": m.canonical_unit,
                "accepted_units": " | ".join(m.accepted_units),
                "plausible_max": m.plausible_max_per_month,
            }
            for m in reference.metrics().values()
        ]
    )
    factors = pd.DataFrame(
        [{"metric": f.metric, "unit": f.unit, "factor": f.factor} for f in units.unit_factors()]
    )
    con.register("_v_metrics_df", metrics)
    con.register("_v_unit_factors_df", factors)
    con.execute("CREATE OR REPLACE TEMP TABLE _v_metrics AS SELECT * FROM _v_metrics_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _v_unit_factors AS SELECT * FROM _v_unit_factors_df")
    con.unregister("_v_metrics_df")
    con.unregister("_v_unit_factors_df")


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


# Nullable pandas types for integer and boolean columns with nulls, as DuckDB's own `.df()` gives them.
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """The frame `.df()` would give, through Arrow: about five times faster on the prepared rows."""
    frame = table.to_pandas()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and column.type in _NULLABLE:
            frame[name] = column.to_pandas(types_mapper={column.type: _NULLABLE[column.type]}.get)
        elif column.null_count and column.null_count == len(column) and pa.types.is_string(column.type):
            # A text column with no value at all is an object column of None there.
            frame[name] = pd.Series([None] * len(column), dtype=object, index=frame.index)
    return frame


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


def _rules_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"rule": r.rule, "rule_order": r.order, "expected": r.expected, "base_message": r.message}
            for r in rules().values()
        ]
    )


# The submitted text of the issue's column.
_COLUMN_VALUE = """CASE i."column"
        WHEN 'facility_id' THEN p.facility_id WHEN 'period' THEN p.period WHEN 'metric' THEN p.metric
        WHEN 'value' THEN p.value WHEN 'unit' THEN p.unit WHEN 'sample_point' THEN p.sample_point
        WHEN 'sample_date' THEN p.sample_date
    END"""

# The detail of each issue: the generic rule message plus the row's own values.
ISSUE_DETAIL_SQL = """
SELECT
    i.submission_id,
    i.row_number,
    i."column",
    i.rule,
    {column_value} AS value,
    CASE i.rule
        WHEN 'unit_not_accepted' THEN 'one of: ' || m.accepted_units
        WHEN 'implausible_value' THEN 'at most ' || format('{:,}', p.plausible_max) || ' '
            || p.canonical_unit || ' per month for ' || p.metric
        WHEN 'part_exceeds_whole' THEN {relation_expected}
        WHEN 'implausible_change' THEN {history_expected}
        ELSE r.expected
    END AS expected,
    -- coalesce: a message must never be empty, even when a value it quotes is missing
    coalesce(CASE i.rule
        WHEN 'implausible_value' THEN CASE WHEN NOT isfinite(p.value_canonical) THEN format(
            '{} {} is too large to convert to {}; the plausible monthly maximum is {:,} {} for {}; '
            || 'check the unit',
            p.value, p.unit, p.canonical_unit, p.plausible_max, p.canonical_unit, p.metric) ELSE format(
            '{} {} is {:,} {}, above the plausible monthly maximum of {:,} {} for {}; check the unit',
            p.value, p.unit, round(p.value_canonical, 3), p.canonical_unit, p.plausible_max,
            p.canonical_unit, p.metric) END
        WHEN 'cell_too_long' THEN format(
            '{} holds {:,} characters; a cell may hold at most {:,} (a spreadsheet cell''s own limit)',
            p.longest_cell_column, p.longest_cell_chars, {max_cell})
        WHEN 'formula_without_result' THEN format(
            '{} holds the formula "{}", not a value; type the value itself (in a workbook: open and save '
            || 'it in Excel so the result is saved, or paste values)', i."column", {column_value})
        WHEN 'not_a_number' THEN CASE WHEN p.value_underflow THEN format(
            'value "{}" is too close to zero to be stored (nearer to 0 than about 5e-324) and would '
            || 'become 0; write 0 if it is zero, or the value in a smaller unit',
            CASE WHEN length(p.value) > 40 THEN left(p.value, 37) || '...' ELSE p.value END)
            WHEN p.value_is_plain_number THEN format(
            'value "{}" is outside the range of numbers that can be stored (about ±1.8e308)',
            CASE WHEN length(p.value) > 40 THEN left(p.value, 37) || '...' ELSE p.value END)
            ELSE format('the value is not a number: value = "{}"', p.value) END
        WHEN 'thousands_separator' THEN CASE
            WHEN regexp_full_match(p.value, '(<\\s*)?[+-]?[0-9]{1,3},[0-9]{3}') THEN format(
                'value "{}" has a comma followed by three digits, probably a thousands separator: write {}; '
                || 'if the comma was a decimal comma, write {} (a value a thousand times smaller)',
                p.value, replace(p.value, ',', ''), replace(p.value, ',', '.'))
            ELSE format('value "{}" has a thousands separator; write {}', p.value, CASE
                WHEN contains(p.value, '.') THEN regexp_replace(p.value, '[,'' \u00a0\u202f]', '', 'g')
                WHEN regexp_full_match(regexp_replace(p.value, '['' \u00a0\u202f]', '', 'g'),
                    '(<\\s*)?[+-]?[0-9]{1,3}(,[0-9]{3})+')
                    THEN regexp_replace(p.value, '[,'' \u00a0\u202f]', '', 'g')
                ELSE replace(regexp_replace(p.value, '['' \u00a0\u202f]', '', 'g'), ',', '.')
            END) END
        WHEN 'decimal_comma' THEN format(
            'value "{}" uses a decimal comma; write {} with a decimal point{}', p.value,
            replace(replace(p.value, '.', ''), ',', '.'),
            CASE WHEN regexp_matches(p.value, ',[0-9]{3}([eE]|$)') THEN format(
                ' (if the comma separated thousands, {})', replace(replace(p.value, '.', ''), ',', ''))
                ELSE '' END)
        WHEN 'unit_not_accepted' THEN format('unit "{}" is not accepted for {}', p.unit, p.metric)
        WHEN 'required_missing' THEN format('{} is empty; it is required', i."column")
        WHEN 'future_period' THEN format('period {} has not started yet', p.period)
        WHEN 'future_sample_date' THEN format(
            'sample_date {} is after the reporting date; a sample cannot be taken in the future',
            p.sample_date)
        WHEN 'facility_inactive' THEN format('{} was not active in {}', p.facility_id, p.period)
        WHEN 'duplicate_in_file' THEN format(
            '{} {} {} (sample {} {}) appears more than once in this file',
            coalesce(p.facility_id, '-'), coalesce(p.period, '-'), coalesce(p.metric, '-'),
            coalesce(p.sample_point, '-'), coalesce(p.sample_date, '-'))
        WHEN 'negative_value' THEN format('value {} is negative', p.value)
        WHEN 'part_exceeds_whole' THEN {relation_message}
        WHEN 'implausible_change' THEN {history_message}
        WHEN 'sample_not_applicable' THEN format(
            '{} = "{}" is given for {}, which is not a wastewater laboratory result; leave {} empty '
            || '(a sample identifies only laboratory results, and would make this row a second value)',
            i."column", {column_value}, coalesce(p.metric, '-'), i."column")
        ELSE r.base_message || CASE WHEN i."column" <> '' THEN format(': {} = "{}"', i."column",
            CASE i."column"
                WHEN 'facility_id' THEN p.facility_id WHEN 'period' THEN p.period
                WHEN 'metric' THEN p.metric WHEN 'value' THEN p.value WHEN 'unit' THEN p.unit
                WHEN 'sample_point' THEN coalesce(p.sample_point, '')
                WHEN 'sample_date' THEN coalesce(p.sample_date, '')
            END) ELSE '' END
    END, r.base_message) AS message,
    r.rule_order
FROM {issues} AS i
JOIN _v_prepared AS p USING (submission_id, row_number)
JOIN _v_rules AS r ON r.rule = i.rule
LEFT JOIN _v_metrics AS m ON m.metric = p.metric
"""
ISSUE_DETAIL_SQL = (
    ISSUE_DETAIL_SQL.replace("{column_value}", _COLUMN_VALUE)
    .replace("{max_cell}", str(MAX_CELL_CHARS))
    .replace("{relation_message}", relation_message_sql())
    .replace("{relation_expected}", relation_expected_sql())
    .replace("{history_message}", HISTORY_MESSAGE_SQL)
    .replace("{history_expected}", HISTORY_EXPECTED_SQL)
)


def describe_issues(con: duckdb.DuckDBPyConnection, issues: pd.DataFrame) -> pd.DataFrame:
    """Issues with the submitted value, what was expected and a specific message, in rule order."""
    con.register("_v_rules_df", _rules_frame())
    con.execute("CREATE OR REPLACE TEMP TABLE _v_rules AS SELECT * FROM _v_rules_df")
    con.unregister("_v_rules_df")
    con.register("_v_issues_df", issues)
    try:
        return con.execute(
            ISSUE_DETAIL_SQL.replace("{issues}", "_v_issues_df")
            + " ORDER BY i.submission_id, i.row_number, r.rule_order"
        ).df()
    finally:
        con.unregister("_v_issues_df")


def file_rule_message(rule_id: str, detail: str) -> str:
    return f"{rule(rule_id).message}: {detail}"
