"""The suites' expectations evaluated in DuckDB flag exactly the rows Great Expectations' pandas engine
flags: on the demo inbox's realistic faults and on hand-made edge cases of every kind of expectation."""

from __future__ import annotations

from datetime import date

import duckdb
import great_expectations.expectations as gxe
import pandas as pd
import pytest
from great_expectations.expectations.row_conditions import Column

from expectations.sql import compilable, compile_suite, drop_value_sets, flagged_by_sql
from expectations.submission_suite import submission_expectations
from instep.demo import generate_demo
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import settle_staged_rows
from instep.validate.suite import reference_issues, validate_staged
from instep.warehouse import connect
from tests.conftest import AS_OF

HEADER = "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
# Values at the edges of each kind of expectation, beside the demo's faults.
EDGE_ROWS = [
    "ET-HAW-F001,２０２４-01,water.recycled,10,m3,,,",  # full-width digits: Python's \\d, not RE2's
    "ET-HAW-F001,2024-01,water.recycled,１０,m3,,,",
    "ET-HAW-F001,2024-01,water.withdrawal.municipal,1e-400,m3,,,",
    "ET-HAW-F001,2024-01,water.withdrawal.groundwater,=A1*2,m3,,,",
    "=HYPERLINK(1),2024-01,water.withdrawal.groundwater,1,m3,,,",
    'ET-HAW-F001,2024-01,energy.fuel.lpg,"1,234.5",kg,,,',
    "ET-HAW-F001,2024-01,energy.fuel.lpg,1 234,kg,,,",
    "ET-HAW-F001,2024-01,energy.fuel.lpg,nan,kg,,,",
    "ET-HAW-F001,2024-01,energy.fuel.lpg,inf,kg,,,",
    "ET-HAW-F001,2024-01,energy.fuel.lpg,1e308,t,,,",
    "ET-HAW-F001,2024-01,energy.fuel.lpg, < 5 ,kg,,,",
    "ET-HAW-C001,2024-01,wastewater.cod, < 5 ,mg/L,discharge,2024-1-20,",
    "ET-HAW-C001,2024-01,wastewater.cod,7,mg/L,discharge,2024-01-20,",
    "ET-HAW-C001,2024-01,wastewater.cod,8,mg/L,Discharge,2031-01-20,",
    "ET-HAW-C001,2024-01,wastewater.cod,9,mg/L,,,",
    "ET-HAW-F001,2024-01,water.recycled,10,m3,raw,,",
    "ET-HAW-F001,2024-01,water.recycled,10,m3,,,",
    "ET-HAW-F001,2024-01,water.recycled,11,m3,,,",
    " ET-HAW-F001 , 2024-02 , water.recycled , 3 , m3 ,,,",
    "ET-HAW-F001,2024-01,energy.fuel.lpg,,kg,,,",
    "ET-HAW-F002,2024-07,water.recycled,1,m3,,,",
    "ET-HAW-F001,2026-12,water.recycled,1,m3,,,",
    "ET-HAW-F001,2024-01,social.workforce.total,10,persons,,,,extra",
]


def _issue_set(issues: pd.DataFrame) -> set[tuple[str, int, str, str]]:
    return {(r.submission_id, int(r.row_number), r.column, r.rule) for r in issues.itertuples()}


@pytest.fixture(scope="module")
def staged_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo inbox and the edge cases staged, the demo's first months settled (a history to judge
    the rest against)."""
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(workspace=root, datapackages_dir=root / "datapackages", as_of=AS_OF)
    generate_demo(root, facilities=24, months=12, seed=11)
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        files = sorted(settings.inbox_dir.iterdir())
        stage_new_files(con, settings.inbox_dir, settings.archive_dir, files=files[: len(files) // 3])
        settle_staged_rows(con, settings.as_of)
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
    return settings


def test_duckdb_and_pandas_flag_the_same_submitted_rows(staged_demo: Settings):
    with connect(staged_demo) as con:
        outcome = validate_staged(con, "staged_rows", staged_demo.as_of)
        reference = reference_issues(con, outcome.prepared_table, staged_demo.as_of)
    assert len(set(reference["rule"])) >= 5  # the demo's faults are there to be found
    assert _issue_set(outcome.issues) == _issue_set(reference)


def test_edge_cases_flag_the_same_rows_in_both_engines(workspace: Settings):
    (workspace.inbox_dir / "edges.csv").write_text(HEADER + "\n".join(EDGE_ROWS) + "\n", encoding="utf-8")
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        outcome = validate_staged(con, "staged_rows", workspace.as_of)
        reference = reference_issues(con, outcome.prepared_table, workspace.as_of)
    rules = set(reference["rule"])
    for rule in (
        "bad_period_format",
        "formula_without_result",
        "thousands_separator",
        "not_a_number",
        "duplicate_in_file",
        "sample_not_applicable",
        "sample_point_missing",
        "extra_cells",
        "future_period",
        "facility_inactive",
        "required_missing",
        "future_sample_date",
    ):
        assert rule in rules
    assert _issue_set(outcome.issues) == _issue_set(reference)


def test_every_expectation_kind_in_sql_matches_pandas_on_nulls_nan_and_infinities():
    import great_expectations as gx

    from expectations import ROW_RESULT_FORMAT, flagged_rows
    from expectations.frames import validate_frame

    nan, inf = float("nan"), float("inf")
    rows = pd.DataFrame(
        {
            "submission_id": ["S-a"] * 8,
            "row_number": list(range(1, 9)),
            "x": [1.0, None, nan, inf, -inf, -1.0, 5.0, 2.0],
            "y": [0.5, 1.0, 1.0, None, 2.0, nan, 6.0, 2.0],
            "t": ["a", None, "b", "a", "a", "c", None, "b"],
            "flag": [True, False, True, None, True, False, True, True],
            "k": ["p", "p", None, None, "q", "q", "r", None],
        }
    )
    expectations = [
        gxe.ExpectColumnValuesToNotBeNull(column="x", meta={"i": 0}),
        gxe.ExpectColumnValuesToBeNull(column="y", meta={"i": 1}),
        gxe.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=4, meta={"i": 2}),
        gxe.ExpectColumnValuesToBeBetween(column="x", min_value=-1, strict_min=True, meta={"i": 3}),
        gxe.ExpectColumnValuesToBeInSet(column="t", value_set=["a", "b"], meta={"i": 4}),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="x", column_B="y", or_equal=True, ignore_row_if="either_value_is_missing", meta={"i": 5}
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="x", column_B="y", ignore_row_if="either_value_is_missing", meta={"i": 6}
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="x", row_condition=Column("flag") == True, meta={"i": 7}),  # noqa: E712
        gxe.ExpectColumnValuesToBeNull(column="y", row_condition=Column("t") != "a", meta={"i": 8}),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["k", "flag"], meta={"i": 9}),
        gxe.ExpectColumnValuesToNotMatchRegex(column="t", regex="^b", meta={"i": 10}),
        gxe.ExpectColumnValuesToMatchRegex(column="t", regex="a$", meta={"i": 11}),
    ]
    assert all(compilable(e) for e in expectations)

    def kinds() -> gx.ExpectationSuite:
        suite = gx.ExpectationSuite(name="kinds")
        for expectation in expectations:
            suite.add_expectation(expectation.copy(update={"id": None}))
        return suite

    result = validate_frame(kinds, rows, ROW_RESULT_FORMAT)
    by_pandas = {(meta["i"], row) for meta, _sid, row in flagged_rows(result, "i")}

    con = duckdb.connect()
    con.register("_rows_df", rows)
    con.execute("CREATE TABLE rows_table AS SELECT * FROM _rows_df")
    # pandas' NaN arrives in DuckDB as NULL; put a real NaN and infinities where the frame has them.
    con.execute("UPDATE rows_table SET x = 'NaN'::DOUBLE WHERE row_number = 3")
    con.execute("UPDATE rows_table SET y = 'NaN'::DOUBLE WHERE row_number = 6")
    types = {name: str(kind) for name, kind, *_ in con.execute("DESCRIBE rows_table").fetchall()}
    compiled = compile_suite(expectations, "rows_table", types)
    by_sql = {
        (compiled.expectations[index].meta["i"], int(row))
        for _sid, row, index in flagged_by_sql(con, compiled).fetchall()
    }
    drop_value_sets(con, compiled)
    assert by_pandas  # the rows are built to fail most expectations somewhere
    assert by_sql == by_pandas


def test_the_regular_expressions_python_and_re2_read_differently_stay_in_pandas():
    expectations = submission_expectations(["ET-HAW-F001"], date(2026, 1, 1).year * 12, 20_000)
    in_pandas = {e.meta["rule"] for e in expectations if not compilable(e)}
    assert in_pandas == {
        "bad_period_format",
        "decimal_comma",
        "thousands_separator",
        "not_a_number",
        "censored_not_allowed",
    }
    assert "formula_without_result" not in in_pandas
