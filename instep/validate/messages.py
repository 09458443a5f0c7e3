"""The messages of failed rules: each issue with the submitted value, what was expected and a message
that quotes the row, from the templates of `expectations/messages.csv`."""

from __future__ import annotations

import duckdb
import pandas as pd

from expectations import rules
from expectations.history import HISTORY_EXPECTED_SQL, HISTORY_MESSAGE_SQL
from expectations.messages import message
from expectations.relations import relation_expected_sql, relation_message_sql
from instep.readers import MAX_CELL_CHARS


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

# Long submitted values are shortened in a message that quotes them.
_SHORT_VALUE = "CASE WHEN length(p.value) > 40 THEN left(p.value, 37) || '...' ELSE p.value END"

# The value a thousands separator hides: the digits without the separators, or with a decimal point where
# the comma is the only decimal mark left.
_WITHOUT_THOUSANDS_SEPARATORS = """CASE
                WHEN contains(p.value, '.') THEN regexp_replace(p.value, '[,'' \u00a0\u202f]', '', 'g')
                WHEN regexp_full_match(regexp_replace(p.value, '['' \u00a0\u202f]', '', 'g'),
                    '(<\\s*)?[+-]?[0-9]{1,3}(,[0-9]{3})+')
                    THEN regexp_replace(p.value, '[,'' \u00a0\u202f]', '', 'g')
                ELSE replace(regexp_replace(p.value, '['' \u00a0\u202f]', '', 'g'), ',', '.')
            END"""


def _message_sql() -> dict[str, str]:
    """The SQL of each row message of expectations/messages.csv, over an issue `i` of a prepared row `p`."""

    def sql(message_id: str, **expressions: str) -> str:
        return message(message_id).sql(**expressions)

    return {
        "unit_not_accepted.expected": sql("unit_not_accepted.expected", units="m.accepted_units"),
        "implausible_value.expected": sql(
            "implausible_value.expected",
            plausible_max="p.plausible_max",
            canonical_unit="p.canonical_unit",
            metric="p.metric",
        ),
        "implausible_value.not_convertible": sql(
            "implausible_value.not_convertible",
            value="p.value",
            unit="p.unit",
            canonical_unit="p.canonical_unit",
            plausible_max="p.plausible_max",
            metric="p.metric",
        ),
        "implausible_value.above_maximum": sql(
            "implausible_value.above_maximum",
            value="p.value",
            unit="p.unit",
            canonical_value="round(p.value_canonical, 3)",
            canonical_unit="p.canonical_unit",
            plausible_max="p.plausible_max",
            metric="p.metric",
        ),
        "cell_too_long.cell": sql(
            "cell_too_long.cell",
            column="p.longest_cell_column",
            length="p.longest_cell_chars",
            limit=str(MAX_CELL_CHARS),
        ),
        "formula_without_result.cell": sql(
            "formula_without_result.cell", column='i."column"', formula=_COLUMN_VALUE
        ),
        "not_a_number.underflow": sql("not_a_number.underflow", value=_SHORT_VALUE),
        "not_a_number.out_of_range": sql("not_a_number.out_of_range", value=_SHORT_VALUE),
        "not_a_number.value": sql("not_a_number.value", value="p.value"),
        "thousands_separator.or_decimal_comma": sql(
            "thousands_separator.or_decimal_comma",
            value="p.value",
            corrected="replace(p.value, ',', '')",
            decimal_reading="replace(p.value, ',', '.')",
        ),
        "thousands_separator.value": sql(
            "thousands_separator.value", value="p.value", corrected=_WITHOUT_THOUSANDS_SEPARATORS
        ),
        "decimal_comma.value": sql(
            "decimal_comma.value",
            value="p.value",
            corrected="replace(replace(p.value, '.', ''), ',', '.')",
            thousands_reading="CASE WHEN regexp_matches(p.value, ',[0-9]{3}([eE]|$)') THEN "
            + sql("decimal_comma.thousands_reading", corrected="replace(replace(p.value, '.', ''), ',', '')")
            + " ELSE '' END",
        ),
        "unit_not_accepted.unit": sql("unit_not_accepted.unit", unit="p.unit", metric="p.metric"),
        "required_missing.column": sql("required_missing.column", column='i."column"'),
        "future_period.period": sql("future_period.period", period="p.period"),
        "future_sample_date.sample_date": sql("future_sample_date.sample_date", sample_date="p.sample_date"),
        "facility_inactive.period": sql(
            "facility_inactive.period", facility_id="p.facility_id", period="p.period"
        ),
        "duplicate_in_file.key": sql(
            "duplicate_in_file.key",
            facility_id="coalesce(p.facility_id, '-')",
            period="coalesce(p.period, '-')",
            metric="coalesce(p.metric, '-')",
            sample_point="coalesce(p.sample_point, '-')",
            sample_date="coalesce(p.sample_date, '-')",
        ),
        "negative_value.value": sql("negative_value.value", value="p.value"),
        "sample_not_applicable.cell": sql(
            "sample_not_applicable.cell",
            column='i."column"',
            value=_COLUMN_VALUE,
            metric="coalesce(p.metric, '-')",
        ),
        "rule.column_value": sql(
            "rule.column_value",
            message="r.base_message",
            column='i."column"',
            value="""CASE i."column"
                WHEN 'facility_id' THEN p.facility_id WHEN 'period' THEN p.period
                WHEN 'metric' THEN p.metric WHEN 'value' THEN p.value WHEN 'unit' THEN p.unit
                WHEN 'sample_point' THEN coalesce(p.sample_point, '')
                WHEN 'sample_date' THEN coalesce(p.sample_date, '')
            END""",
        ),
        "part_exceeds_whole.expected": relation_expected_sql(),
        "part_exceeds_whole.relation": relation_message_sql(),
        "implausible_change.expected": HISTORY_EXPECTED_SQL,
        "implausible_change.history": HISTORY_MESSAGE_SQL,
    }


# The detail of each issue: what was expected and the message quoting the row's own values, each from
# its template; {message id} stands for the template's SQL.
ISSUE_DETAIL_SQL = """
SELECT
    i.submission_id,
    i.row_number,
    i."column",
    i.rule,
    {column_value} AS value,
    CASE i.rule
        WHEN 'unit_not_accepted' THEN {unit_not_accepted.expected}
        WHEN 'implausible_value' THEN {implausible_value.expected}
        WHEN 'part_exceeds_whole' THEN {part_exceeds_whole.expected}
        WHEN 'implausible_change' THEN {implausible_change.expected}
        ELSE r.expected
    END AS expected,
    -- coalesce: a message must never be empty, even when a value it quotes is missing
    coalesce(CASE i.rule
        WHEN 'implausible_value' THEN CASE WHEN NOT isfinite(p.value_canonical)
            THEN {implausible_value.not_convertible} ELSE {implausible_value.above_maximum} END
        WHEN 'cell_too_long' THEN {cell_too_long.cell}
        WHEN 'formula_without_result' THEN {formula_without_result.cell}
        WHEN 'not_a_number' THEN CASE WHEN p.value_underflow THEN {not_a_number.underflow}
            WHEN p.value_is_plain_number THEN {not_a_number.out_of_range}
            ELSE {not_a_number.value} END
        WHEN 'thousands_separator' THEN CASE
            WHEN regexp_full_match(p.value, '(<\\s*)?[+-]?[0-9]{1,3},[0-9]{3}')
            THEN {thousands_separator.or_decimal_comma}
            ELSE {thousands_separator.value} END
        WHEN 'decimal_comma' THEN {decimal_comma.value}
        WHEN 'unit_not_accepted' THEN {unit_not_accepted.unit}
        WHEN 'required_missing' THEN {required_missing.column}
        WHEN 'future_period' THEN {future_period.period}
        WHEN 'future_sample_date' THEN {future_sample_date.sample_date}
        WHEN 'facility_inactive' THEN {facility_inactive.period}
        WHEN 'duplicate_in_file' THEN {duplicate_in_file.key}
        WHEN 'negative_value' THEN {negative_value.value}
        WHEN 'part_exceeds_whole' THEN {part_exceeds_whole.relation}
        WHEN 'implausible_change' THEN {implausible_change.history}
        WHEN 'sample_not_applicable' THEN {sample_not_applicable.cell}
        ELSE CASE WHEN i."column" <> '' THEN {rule.column_value} ELSE r.base_message END
    END, r.base_message) AS message,
    r.rule_order
FROM {issues} AS i
JOIN _v_prepared AS p USING (submission_id, row_number)
JOIN _v_rules AS r ON r.rule = i.rule
LEFT JOIN _v_metrics AS m ON m.metric = p.metric
""".replace("{column_value}", _COLUMN_VALUE)
for _message_id, _sql in _message_sql().items():
    ISSUE_DETAIL_SQL = ISSUE_DETAIL_SQL.replace("{" + _message_id + "}", _sql)


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
