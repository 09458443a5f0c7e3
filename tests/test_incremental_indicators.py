"""Incremental indicator builds: after each new file the out_* tables equal a full rebuild row for row,
only the affected partitions were recomputed, and whatever the watermark cannot vouch for rebuilds all."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from instep.demo.generate import generate_demo
from instep.indicators import OUT_TABLES, IndicatorBuild, build_indicator_tables
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import settle_staged_rows
from instep.warehouse import connect

AS_OF = date(2026, 11, 25)
# Held back from the first run: the last quarter (new months) and one quarter of the central boiler.
LAST_QUARTER = "2025Q4"
BOILER_FILE = "2025-10-21_VN-NTR-BOILER_2025Q3.csv"
HEADER = ["facility_id", "period", "metric", "value", "unit", "sample_point", "sample_date", "comment"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo (four parks with a central boiler, effluent plants and a solar plant), 14 months."""
    out = tmp_path_factory.mktemp("incremental-demo")
    generate_demo(out, facilities=10, months=14, seed=42, overwrite=False)
    return out


@pytest.fixture
def settings(demo: Path, tmp_path: Path) -> Settings:
    """A workspace with the demo's registry and its inbox but for the files held back."""
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "datapackages", as_of=AS_OF)
    shutil.copytree(demo / "registry", settings.registry_dir)
    settings.inbox_dir.mkdir(parents=True)
    for path in sorted((demo / "inbox").iterdir()):
        if LAST_QUARTER not in path.name and path.name != BOILER_FILE:
            shutil.copyfile(path, settings.inbox_dir / path.name)
    return settings


def _run(settings: Settings) -> IndicatorBuild:
    """Ingest and settle the new inbox files, then bring the indicator tables up to date."""
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)
        return build_indicator_tables(con, settings)


def _add(settings: Settings, demo: Path, name: str) -> None:
    shutil.copyfile(demo / "inbox" / name, settings.inbox_dir / name)


def _write(settings: Settings, name: str, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([HEADER, *rows])
    (settings.inbox_dir / name).write_text(out.getvalue(), encoding="utf-8")


def _differences(settings: Settings) -> dict[str, tuple[int, int, int, int]]:
    """Per out_* table that differs from a full rebuild of a copy of the warehouse: rows incremental, rows
    full, rows only in the incremental tables, rows only in the full ones (EXCEPT ALL both ways)."""
    full_path = settings.workspace / "full_rebuild.duckdb"
    shutil.copyfile(settings.warehouse_path, full_path)
    con = duckdb.connect(str(full_path))
    try:
        assert build_indicator_tables(con, settings, full=True).plan.full
        con.execute("ATTACH ? AS incremental (READ_ONLY)", [str(settings.warehouse_path)])
        found = {}
        for table in OUT_TABLES:
            counts = con.execute(
                f"SELECT (SELECT count(*) FROM incremental.main.{table}), (SELECT count(*) FROM {table}), "
                f"(SELECT count(*) FROM (FROM incremental.main.{table} EXCEPT ALL FROM {table})), "
                f"(SELECT count(*) FROM (FROM {table} EXCEPT ALL FROM incremental.main.{table}))"
            ).fetchall()[0]
            if counts[0] != counts[1] or counts[2] or counts[3]:
                found[table] = counts
        return found
    finally:
        con.close()
        full_path.unlink()


def _restatement(settings: Settings, facility_id: str, period: str) -> list[list[str]]:
    """The accepted non-wastewater rows of a facility-month, each value 2 % higher."""
    with connect(settings, read_only=True) as con:
        rows = con.execute(
            "SELECT facility_id, period, metric, submitted_value, submitted_unit FROM observations "
            "WHERE facility_id = ? AND period = ? AND topic <> 'wastewater' ORDER BY metric",
            [facility_id, period],
        ).fetchall()
    assert rows
    return [[f, p, m, f"{float(v) * 1.02:.3f}", u, "", "", ""] for f, p, m, v, u in rows]


def test_each_incremental_build_equals_a_full_rebuild(settings: Settings, demo: Path):
    first = _run(settings)
    assert first.plan.full and first.plan.reason == "no earlier build"
    assert _differences(settings) == {}
    facility_months = first.rows["out_facility_monthly"]

    # A new quarter for one factory: new months move the reporting window, so the park tables are
    # rebuilt whole while only the factory's facility-months are recomputed.
    _add(settings, demo, "2026-01-31_ET-HAW-F001_2025Q4.csv")
    new_months = _run(settings).plan
    assert not new_months.full and new_months.park_tables_whole
    assert 0 < new_months.facility_months <= 3 + 2
    assert _differences(settings) == {}

    # A restatement of an old month: that month and the two after it, their park-months and park-year.
    _write(
        settings, "2026-03-01_ET-HAW-F002_restatement.csv", _restatement(settings, "ET-HAW-F002", "2025-01")
    )
    restated = _run(settings).plan
    assert not restated.full and not restated.park_tables_whole
    assert (restated.facility_months, restated.park_months, restated.park_years) == (3, 3, 1)
    assert _differences(settings) == {}

    # A late file of two old months with a fuel the factory had not reported: the month after them now
    # expects it, and misses it.
    lpg = [
        ["KE-ATH-F002", period, "energy.fuel.lpg", "100", "kg", "", "", ""]
        for period in ("2025-03", "2025-04")
    ]
    _write(settings, "2026-03-01_KE-ATH-F002_lpg.csv", lpg)
    late = _run(settings).plan
    assert not late.full and (late.facility_months, late.park_months, late.park_years) == (4, 4, 1)
    with connect(settings, read_only=True) as con:
        missing = con.execute(
            "SELECT missing_inputs FROM out_facility_monthly "
            "WHERE facility_id = 'KE-ATH-F002' AND period = '2025-05'"
        ).fetchall()
    assert "energy.fuel.lpg (not reported)" in missing[0][0]
    assert _differences(settings) == {}

    # A quarter of the central boiler: its steam is netted out of the park's energy.
    _add(settings, demo, BOILER_FILE)
    boiler = _run(settings).plan
    assert not boiler.full and not boiler.park_tables_whole
    assert 3 <= boiler.facility_months <= 5 and boiler.park_months == boiler.facility_months
    assert _differences(settings) == {}

    # A file with a row that validation rejects (an unknown unit) and one of a facility of another park.
    rows = _restatement(settings, "VN-PHL-F001", "2025-06")
    rows[0][4] = "furlongs"
    _write(settings, "2026-03-02_VN-PHL-F001_mixed.csv", rows)
    mixed = _run(settings).plan
    assert not mixed.full and mixed.park_years == 1
    assert _differences(settings) == {}

    # The rest of the last quarter: every park, in CSV, XLSX and JSON.
    for path in sorted((demo / "inbox").glob(f"*{LAST_QUARTER}*")):
        _add(settings, demo, path.name)
    rest = _run(settings).plan
    assert not rest.full and not rest.park_tables_whole
    assert rest.facility_months < facility_months
    assert _differences(settings) == {}

    # A registry change (a factory now discloses in aggregate only) rebuilds every table.
    facilities = settings.registry_dir / "facilities.csv"
    text = facilities.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("KE-ATH-F004,"))
    facilities.write_text(text.replace(line, line.replace(",public,", ",aggregate_only,")), encoding="utf-8")
    registry = _run(settings).plan
    assert registry.full and "registry" in registry.reason
    assert _differences(settings) == {}


def test_an_incremental_build_leaves_unaffected_partitions_alone(settings: Settings):
    _run(settings)
    planted = [
        ("out_facility_monthly", "facility_id", "KE-ATH-F001", "2025-02"),
        ("out_facility_monthly", "facility_id", "ET-HAW-F002", "2024-12"),
        ("out_facility_monthly", "facility_id", "ET-HAW-F002", "2025-01"),
        ("out_park_monthly", "park_id", "KE-ATH", "2025-01"),
        ("out_park_monthly", "park_id", "ET-HAW", "2024-12"),
        ("out_park_monthly", "park_id", "ET-HAW", "2025-01"),
    ]
    with connect(settings) as con:
        # A wrong value planted in partitions the next file touches and in some it does not.
        for table, column, key, period in planted:
            con.execute(
                f"UPDATE {table} SET hours_worked = -1 WHERE {column} = ? AND period = ?", [key, period]
            )
    restated = _restatement(settings, "ET-HAW-F002", "2025-01")
    _write(settings, "2026-03-01_ET-HAW-F002_restatement.csv", restated)
    assert not _run(settings).plan.full
    with connect(settings, read_only=True) as con:
        left = con.execute(
            "SELECT 'out_facility_monthly', facility_id, period FROM out_facility_monthly "
            "WHERE hours_worked = -1 UNION ALL "
            "SELECT 'out_park_monthly', park_id, period FROM out_park_monthly WHERE hours_worked = -1 "
            "ORDER BY ALL"
        ).fetchall()
    # Only the restated facility-month (and the two after it) and its park-months were recomputed.
    recomputed = {("ET-HAW-F002", "2025-01"), ("ET-HAW", "2025-01")}
    assert left == sorted((t, k, p) for t, _, k, p in planted if (k, p) not in recomputed)
    # (out_park_annual is rebuilt from out_park_monthly every time, so it carries the planted value)
    assert set(_differences(settings)) == {"out_facility_monthly", "out_park_monthly", "out_park_annual"}


def test_earlier_rows_changed_without_a_later_file_rebuild_every_table(settings: Settings):
    _run(settings)
    with connect(settings) as con:
        # What a confirmed rejection judged again looks like to the ledger: an earlier file's row in
        # another state, with its own file_seq.
        row = con.execute(
            "SELECT submission_id, row_number FROM submission_rows WHERE state = 'superseded' "
            "ORDER BY ALL LIMIT 1"
        ).fetchall()[0]
        con.execute(
            "UPDATE submission_rows SET state = 'rejected', superseded_by = NULL, "
            "rule = 'implausible_change', message = 'confirmed' WHERE submission_id = ? AND row_number = ?",
            list(row),
        )
    plan = _run(settings).plan
    assert plan.full and plan.reason == "rows of earlier files changed other than by restatement"
    assert _differences(settings) == {}


def test_no_new_file_recomputes_no_partition(settings: Settings):
    first = _run(settings)
    again = _run(settings)
    assert not again.plan.full
    assert (again.plan.facility_months, again.plan.park_months, again.plan.park_years) == (0, 0, 0)
    assert again.rows == first.rows
    assert _differences(settings) == {}
