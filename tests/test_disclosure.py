"""Disclosure control: no aggregate-only facility, sensitive per-facility metric, submitter or comment in
any pub_* table; small GBV counts banded; ratios over fewer than 10 persons suppressed."""

from __future__ import annotations

import duckdb
import pytest

from instep.disclosure import build_publishable_tables, publish_resource
from instep.indicators import build_indicator_tables
from instep.metadata.resources import COMPUTED_RESOURCES
from instep.registry import load_registry, read_registry
from instep.scoring import build_scorecards
from instep.settings import Settings
from instep.warehouse import connect
from tests.indicator_world import Obs, compute, facility, one, rows, warehouse
from tests.test_ingest import HEADER, ingest

SECRET_COMMENT = "night shift supervisor Abebe reported"
# ET-HAW-F002 "Beta Dyeing" is aggregate_only in the shared test registry (tests/conftest.py).
SUBMISSION = HEADER + "".join(
    f"{row}\n"
    for row in [
        f"ET-HAW-F001,2024-01,grievances.gbv.received,3,count,,,{SECRET_COMMENT}",
        "ET-HAW-F001,2024-01,workforce.female,40,persons,,,",
        "ET-HAW-F001,2024-01,workforce.male,20,persons,,,",
        "ET-HAW-F001,2024-01,workforce.managers.female,1,persons,,,",
        "ET-HAW-F001,2024-01,workforce.managers.male,3,persons,,,",
        "ET-HAW-F001,2024-01,energy.electricity.grid,1000,kWh,,,",
        "ET-HAW-F002,2024-01,grievances.gbv.received,4,count,,,",
        "ET-HAW-F002,2024-01,energy.electricity.grid,5000,kWh,,,Beta Dyeing meter 7",
        "ET-HAW-F002,2024-01,wastewater.cod,40,mg/L,discharge,2024-01-20,",
        "ET-HAW-F002,2024-01,production.output_mass,2000,kg,,,",
        "ET-HAW-C001,2024-01,wastewater.cod,30,mg/L,discharge,2024-01-20,",
    ]
)


@pytest.fixture
def published(workspace: Settings) -> tuple[Settings, dict[str, list[dict]]]:
    (workspace.inbox_dir / "2024-02-10_mixed.csv").write_text(SUBMISSION, encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        build_indicator_tables(con, workspace)
        build_publishable_tables(con, workspace)
        build_scorecards(con, workspace.rubric_version, workspace.gwp_set)
        publish_resource(con, "scorecards")
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'pub_%'"
            ).fetchall()
        ]
        out = {t: rows(con, f'SELECT * FROM "{t}"') for t in tables}
        submission_ids = [s for (s,) in con.execute("SELECT submission_id FROM submission_files").fetchall()]
    return workspace, out | {"_submission_ids": [{"id": s} for s in submission_ids]}


def test_no_pub_table_names_an_aggregate_only_facility_a_submitter_or_a_comment(published):
    _, tables = published
    submission_ids = [r["id"] for r in tables.pop("_submission_ids")]
    assert {f"pub_{r.name}" for r in COMPUTED_RESOURCES} <= tables.keys()
    forbidden = ["ET-HAW-F002", "Beta Dyeing", SECRET_COMMENT, "meter 7", *submission_ids]
    for table, table_rows in tables.items():
        for row in table_rows:
            for column, value in row.items():
                assert column not in {"submission_id", "comment", "disclosure", "submitted_value"}, table
                for text in forbidden:
                    assert text not in str(value), (table, column, value)
    facility_level = [r for r in COMPUTED_RESOURCES if "facility_id" in r.field_names]
    for spec in facility_level:
        assert not any("gbv" in name for name in spec.field_names), spec.name
        assert not any("gbv" in c for row in tables[f"pub_{spec.name}"] for c in row)
    assert {r["facility_id"] for r in tables["pub_facility_monthly"]} == {"ET-HAW-F001", "ET-HAW-C001"}
    assert {r["facility_id"] for r in tables["pub_wastewater_results"]} == {"ET-HAW-C001"}


def test_aggregate_only_facilities_stay_inside_park_sums_and_a_lone_one_is_withheld(published):
    settings, tables = published
    (park,) = [r for r in tables["pub_park_monthly"] if r["park_id"] == "ET-HAW"]
    with connect(settings) as con:
        (inside,) = rows(con, "SELECT * FROM out_park_monthly WHERE park_id = 'ET-HAW'")
    assert inside["electricity_grid_kwh"] == 6000  # 1000 public + 5000 aggregate-only
    assert inside["output_kg"] == 2000
    # ET-HAW-F002 is the park's only aggregate-only facility: the park total minus the public ones
    # would be its own value, so the cells it is in are withheld, with the reason
    for column in (
        "electricity_grid_kwh",
        "output_kg",
        "wastewater_results_discharge",
        "grievances_gbv_received_display",
    ):
        assert park[column] is None
        assert column in park["suppressed_fields"].split(";")
    assert "electricity_grid_kwh: threshold" in park["suppression_rules"]
    assert "ghg_intensity_kg_co2e_per_kg: derived" in park["suppression_rules"]
    assert inside["wastewater_results_discharge"] == 2


def test_park_gbv_counts_of_1_to_4_are_shown_as_less_than_5():
    def display(values: tuple[float | None, ...]) -> tuple[str | None, str | None]:
        ids = [f"KE-TST-F00{i}" for i in range(1, len(values) + 1)]
        observations = [Obs(f, "2024-03", "workforce.hours_worked", 1000) for f in ids]
        observations += [
            Obs(f, "2024-03", "grievances.gbv.received", v)
            for f, v in zip(ids, values, strict=True)
            if v is not None
        ]
        con = compute(warehouse([facility(f) for f in ids], observations))
        row = one(
            con, "SELECT grievances_gbv_received_display AS d, suppression_rules AS r FROM pub_park_monthly"
        )
        return row["d"], row["r"]

    cases = [(None, None, None), (0, 0, 0), (1, 1, 1), (2, 1, 1), (2, 2, 1), (5, 4, 3)]
    assert [display(v)[0] for v in cases] == ["", "0", "<5", "<5", "5", "12"]
    # no facility publishes the metric: a park count from one or two of them is withheld, not banded
    assert display((3, None, None)) == (
        None,
        "grievances_gbv_received: threshold; grievances_gbv_received_display: derived",
    )


def test_ratios_over_fewer_than_10_persons_are_suppressed_and_flagged(published):
    _, tables = published
    (row,) = [r for r in tables["pub_facility_monthly"] if r["facility_id"] == "ET-HAW-F001"]
    assert row["women_share_workforce_pct"] == pytest.approx(100 * 40 / 60)  # 60 workers: published
    assert row["managers_total"] == 4
    assert row["women_share_managers_pct"] is None  # 4 managers: suppressed
    assert row["managers_female"] is None
    assert set(row["suppressed_fields"].split(";")) >= {"women_share_managers_pct", "managers_female"}
    assert "women_share_workforce_pct" not in row["suppressed_fields"]


def test_scores_use_park_values_after_suppression():
    # a whole year: only complete years are scored
    observations = [
        Obs("KE-TST-F001", f"2024-{month:02d}", metric, value)
        for month in range(1, 13)
        for metric, value in (
            ("workforce.female", 50),
            ("workforce.male", 50),
            ("workforce.supervisors.female", 2),
            ("workforce.supervisors.male", 3),
        )
    ]
    con = compute(warehouse([facility("KE-TST-F001")], observations))
    (card,) = rows(con, "SELECT * FROM pub_scorecards WHERE component = 'women_supervisor_parity'")
    assert (card["status"], card["value"]) == ("n/a", None)
    assert "fewer than 10 persons" in card["na_reason"]


def test_pub_tables_have_exactly_the_published_columns():
    con: duckdb.DuckDBPyConnection = compute(
        warehouse([facility("KE-TST-F001")], [Obs("KE-TST-F001", "2024-03", "training.hours", 5)])
    )
    for spec in COMPUTED_RESOURCES:
        names = tuple(d[0] for d in con.execute(f"SELECT * FROM pub_{spec.name} LIMIT 0").description)
        assert names == spec.field_names
