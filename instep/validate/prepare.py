"""Preparing staged rows for the suite: the submitted text trimmed and parsed set-based in DuckDB, with
the catalogue's and the registry's view of each row."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from instep import reference, units
from instep.metadata.ledger import STAGED_ROWS, SUBMISSION

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
