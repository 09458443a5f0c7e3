"""The submission suite: every row-level rule of `rules.csv` as Great Expectations expectations.

The suite runs on the *prepared* rows (see `instep.validate.prepare.PREPARE_SQL`): the submitted text plus a
few columns parsed set-based in DuckDB (number, month index, canonical value, the catalogue's limits).
Each expectation carries `meta.rule`, the rule id reported for the rows it flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from expectations.history import history_expectations
from expectations.limits import MAX_CELL_CHARS
from expectations.relations import relation_expectations
from instep import reference
from instep.metadata.ledger import SUBMISSION

if TYPE_CHECKING:
    import great_expectations as gx
    import great_expectations.expectations as gxe

SUITE_NAME = "submission_rows"
SAMPLE_POINTS = ("raw", "treated", "discharge")

# A number as a person types it, optionally below a detection limit ("<0.01"); commas are let through
# here so that a decimal comma gets its own, more helpful rule.
NUMBER_LIKE = r"^(?:<\s*)?[+-]?(?:\d[\d,.]*|[.,]\d+)(?:[eE][+-]?\d+)?$"
# One comma followed by exactly three digits ("212,400"): probably a thousands separator (a meter reading
# rarely has three decimals), though it could be a decimal comma; the message gives both readings.
ONE_THOUSANDS_GROUP = r"(?:<\s*)?[+-]?\d{1,3},\d{3}"
COMMA_NUMBER = rf"^(?!{ONE_THOUSANDS_GROUP}$)(?:<\s*)?[+-]?\d[\d.]*,\d*(?:[eE][+-]?\d+)?$"
# Digit groups of three after a comma: one group ("212,400"), with a decimal point (1,234.5), two or
# more groups (1,234,567), or groups split by a space, no-break space or apostrophe (1 234, 1'234).
THOUSANDS = (
    rf"^(?:{ONE_THOUSANDS_GROUP}|(?:<\s*)?[+-]?(?:\d{{1,3}}(?:,\d{{3}})+\.\d*|\d{{1,3}}(?:,\d{{3}}){{2,}}"
    r"|\d{1,3}(?:[ \u00a0\u202f']\d{3})+(?:[.,]\d*)?))$"
)
# A spreadsheet formula: from a CSV typed by hand, or a workbook cell that has no saved result.
FORMULA = r"^="
# Every submitted cell but the free-text comment.
FORMULA_COLUMNS = tuple(name for name in SUBMISSION.field_names if name != "comment")
PERIOD = r"^\d{4}-(?:0[1-9]|1[0-2])$"
KEY_COLUMNS = ["submission_id", "facility_id", "period", "metric", "sample_point_key", "sample_date_key"]


def _meta(rule: str, column: str) -> dict[str, str]:
    return {"rule": rule, "column": column}


def build_submission_suite(
    facility_ids: Iterable[str], as_of_month_index: int, as_of_day_index: int | None = None
) -> gx.ExpectationSuite:
    """The submission suite (build it inside a Great Expectations context)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for expectation in submission_expectations(facility_ids, as_of_month_index, as_of_day_index):
        suite.add_expectation(expectation)
    return suite


def submission_expectations(
    facility_ids: Iterable[str], as_of_month_index: int, as_of_day_index: int | None = None
) -> list[gxe.Expectation]:
    """The expectations every submitted row must meet, for a registry and a reporting date, in order.

    `as_of_day_index` is the reporting date in days since 1970-01-01: no sample is taken after it.
    """
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    wastewater = Column("topic") == "wastewater"
    not_wastewater = Column("topic") != "wastewater"
    catalogue = reference.metrics()
    unit_pairs = sorted((code, unit) for code, m in catalogue.items() for unit in m.accepted_units)
    expectations: list[gxe.Expectation] = [
        gxe.ExpectColumnValuesToBeBetween(
            column="longest_cell_chars", max_value=MAX_CELL_CHARS, meta=_meta("cell_too_long", "")
        )
    ]
    expectations += [
        gxe.ExpectColumnValuesToNotMatchRegex(
            column=column, regex=FORMULA, meta=_meta("formula_without_result", column)
        )
        for column in FORMULA_COLUMNS
    ]
    expectations += [
        gxe.ExpectColumnValuesToNotBeNull(column=column, meta=_meta("required_missing", column))
        for column in ("facility_id", "period", "metric", "value", "unit")
    ]
    expectations += [
        gxe.ExpectColumnValuesToBeInSet(
            column="facility_id",
            value_set=sorted(set(facility_ids)),
            meta=_meta("unknown_facility", "facility_id"),
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="period", regex=PERIOD, meta=_meta("bad_period_format", "period")
        ),
        # The backstop behind the regex: a period DuckDB could not read as a month ("2024-01\\n",
        # full-width digits) never reaches the warehouse.
        gxe.ExpectColumnValuesToNotBeNull(
            column="period_index",
            row_condition=Column("period_given") == True,  # noqa: E712 (builds a condition)
            meta=_meta("bad_period_format", "period"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="period_index", max_value=as_of_month_index, meta=_meta("future_period", "period")
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="period_index",
            column_B="active_from_index",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("facility_inactive", "period"),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="active_to_index",
            column_B="period_index",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("facility_inactive", "period"),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="metric", value_set=sorted(catalogue), meta=_meta("unknown_metric", "metric")
        ),
        # A set of "metric|unit" strings: GX's column-pair set check runs row by row on pandas.
        gxe.ExpectColumnValuesToBeInSet(
            column="known_metric_unit",
            value_set=[f"{metric}|{unit}" for metric, unit in unit_pairs],
            meta=_meta("unit_not_accepted", "unit"),
        ),
        gxe.ExpectColumnValuesToNotMatchRegex(
            column="value", regex=COMMA_NUMBER, meta=_meta("decimal_comma", "value")
        ),
        gxe.ExpectColumnValuesToNotMatchRegex(
            column="value", regex=THOUSANDS, meta=_meta("thousands_separator", "value")
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="value", regex=NUMBER_LIKE, meta=_meta("not_a_number", "value")
        ),
        # The backstop behind the regexes: every value with an accepted unit must have become a number
        # in canonical units ("1.2.3" looks like a number to the regex but is not one).
        gxe.ExpectColumnValuesToNotBeNull(
            column="value_canonical",
            row_condition=Column("value_convertible") == True,  # noqa: E712 (builds a condition)
            meta=_meta("not_a_number", "value"),
        ),
        # Looks like a number but is not a finite one (1e999): caught after DuckDB parsed it.
        gxe.ExpectColumnValuesToNotBeNull(
            column="value_number",
            row_condition=Column("value_is_plain_number") == True,  # noqa: E712 (builds a condition)
            meta=_meta("not_a_number", "value"),
        ),
        gxe.ExpectColumnValuesToNotMatchRegex(
            column="value",
            regex=r"^\s*<",
            row_condition=not_wastewater,
            meta=_meta("censored_not_allowed", "value"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value_number", min_value=0, meta=_meta("negative_value", "value")
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="plausible_max",
            column_B="value_canonical",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("implausible_value", "value"),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="sample_point_or_blank",
            value_set=list(SAMPLE_POINTS),
            row_condition=wastewater,
            meta=_meta("sample_point_missing", "sample_point"),
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="sample_day_index",
            row_condition=wastewater,
            meta=_meta("sample_date_invalid", "sample_date"),
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="sample_day_index",
            column_B="period_day_index",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta("sample_date_invalid", "sample_date"),
        ),
        *(
            # Only a laboratory result has a sample; anywhere else one would split the row's key.
            gxe.ExpectColumnValuesToBeNull(
                column=column, row_condition=not_wastewater, meta=_meta("sample_not_applicable", column)
            )
            for column in ("sample_point", "sample_date")
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="sample_day_index",
            max_value=as_of_day_index,
            meta=_meta("future_sample_date", "sample_date"),
        ),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=KEY_COLUMNS, meta=_meta("duplicate_in_file", "")),
        gxe.ExpectColumnValuesToBeInSet(
            column="extra_cells", value_set=[False], meta=_meta("extra_cells", "")
        ),
    ]
    return [*expectations, *relation_expectations(), *history_expectations()]
