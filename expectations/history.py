"""Plausibility against the facility's own history: `implausible_change`.

A submitted value is compared with the facility's median for the metric over the 12 months before its
period: the accepted values, with the batch's own rows of those months taking the place of what they
restate (the latest row of the batch wins, as on settling). When the value is at least the metric's
`change_factor` (its topic's, in instep/reference/history_plausibility.csv, unless the metric has a row
of its own) above or below that median, it is rejected
unless the steward confirmed it in the registry's confirmations.csv. Zero values and zero medians are not
compared (a stopped line is not a unit error), nor are months with fewer than `min_history_months` of
history. Each prepared row carries `history_median`, `history_months`, `history_factor` and the bounds
`history_low` / `history_high` the expectations judge (empty when it is not compared).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from expectations.messages import message
from instep import reference

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

RULE = "implausible_change"


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
    return bool(found.fetchall()[0][0])


def history_columns_sql(prepared: str, with_accepted: bool, with_confirmations: bool) -> str:
    checks = reference.history_checks()
    factors = " ".join(f"WHEN '{m}' THEN {c.change_factor}" for m, c in checks.items())
    minimum = " ".join(f"WHEN '{m}' THEN {c.min_history_months}" for m, c in checks.items())
    compared = ", ".join(f"'{m}'" for m in checks)
    accepted = (
        f"""SELECT facility_id, metric, year * 12 + month(period_start) - 1 AS period_index, value,
            0 AS source, 0 AS file_seq, 0 AS row_number
        FROM observations WHERE metric IN ({compared})
            -- only the facilities of the batch are compared: a new file reads its facility's history,
            -- not a table of every facility-month of the warehouse
            AND facility_id IN (SELECT facility_id FROM {prepared})"""
        if with_accepted
        else "SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::BIGINT, NULL::DOUBLE, 0, 0, 0 WHERE false"
    )
    confirmed = (
        """EXISTS (SELECT 1 FROM confirmations AS c
            WHERE (c.submission_id = p.submission_id AND c.row_number = p.row_number)
               OR (c.facility_id = p.facility_id AND c.period = p.period AND c.metric = p.metric))"""
        if with_confirmations
        else "false"
    )
    return f"""
WITH months AS (
    SELECT facility_id, metric, period_index, max_by(value, [source, file_seq, row_number]) AS value
    FROM (
        {accepted}
        UNION ALL
        SELECT facility_id, metric, period_index, value_canonical, 1, file_seq, row_number
        FROM {prepared}
        WHERE metric IN ({compared}) AND value_canonical IS NOT NULL AND isfinite(value_canonical)
          AND period_index IS NOT NULL
    ) GROUP BY facility_id, metric, period_index
),
history AS (
    SELECT p.submission_id, p.row_number,
        median(m.value) AS history_median, count(m.value) AS history_months
    FROM {prepared} AS p
    JOIN months AS m
      ON m.facility_id = p.facility_id AND m.metric = p.metric
     AND m.period_index BETWEEN p.period_index - 12 AND p.period_index - 1
    WHERE p.metric IN ({compared})
    GROUP BY p.submission_id, p.row_number
),
judged AS (
    SELECT p.*, h.history_median, coalesce(h.history_months, 0) AS history_months,
        CASE p.metric {factors} END AS history_factor,
        h.history_months >= CASE p.metric {minimum} END AND h.history_median > 0 AND p.value_canonical > 0
            AND NOT {confirmed} AS history_compared
    FROM {prepared} AS p LEFT JOIN history AS h USING (submission_id, row_number)
)
SELECT * EXCLUDE (history_compared),
    CASE WHEN history_compared THEN history_median / history_factor END AS history_low,
    CASE WHEN history_compared THEN history_median * history_factor END AS history_high
FROM judged
"""


def add_history_columns(con: duckdb.DuckDBPyConnection, prepared: str) -> None:
    """Replace the prepared-rows table by itself with the history columns."""
    sql = history_columns_sql(
        prepared, _table_exists(con, "observations"), _table_exists(con, "confirmations")
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _v_history AS {sql}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {prepared} AS SELECT * FROM _v_history")
    con.execute("DROP TABLE _v_history")


def history_expectations() -> list[gxe.Expectation]:
    import great_expectations.expectations as gxe

    meta = {"rule": RULE, "column": "value"}
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="value_canonical",
            column_B="history_low",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
            meta=meta,
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="history_high",
            column_B="value_canonical",
            or_equal=False,
            ignore_row_if="either_value_is_missing",
            meta=meta,
        ),
    ]


_RATIO_SQL = (
    "CASE WHEN p.value_canonical > p.history_median THEN "
    + message("implausible_change.times").sql(ratio="round(p.value_canonical / p.history_median, 1)")
    + " ELSE "
    + message("implausible_change.fraction_of").sql(ratio="round(p.history_median / p.value_canonical, 1)")
    + " END"
)

HISTORY_MESSAGE_SQL = message("implausible_change.history").sql(
    value="p.value",
    unit="p.unit",
    ratio=_RATIO_SQL,
    median="round(p.history_median, 3)",
    canonical_unit="p.canonical_unit",
    months="p.history_months",
    metric="p.metric",
    factor="p.history_factor",
    submission_id="p.submission_id",
    row_number="p.row_number",
)

HISTORY_EXPECTED_SQL = message("implausible_change.expected").sql(
    low="round(p.history_low, 3)",
    high="round(p.history_high, 3)",
    canonical_unit="p.canonical_unit",
    median="round(p.history_median, 3)",
    factor="p.history_factor",
)
