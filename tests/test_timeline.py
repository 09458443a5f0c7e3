"""The demo programme through three successive releases, as a programme lives it: months arriving, a
late restatement, a month whose electricity row was rejected, a new year starting with one file. After
each release: what the home page, park pages, scorecards, changelog and data-quality page say, and that
the release passes `frictionless validate`."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from instep.demo import generate_demo
from instep.settings import Settings
from instep.site.build import generate_pages
from instep.warehouse import connect
from tests.conftest import AS_OF
from tests.release_helpers import frictionless_validate
from tests.test_release_pipeline import release

HEADER = "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
FACTORY = "VN-NTR-F002"  # an aggregate-only factory: what it is missing shows in the park totals


def _table(release_dir: Path, name: str) -> list[dict[str, str]]:
    with (release_dir / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _validate(release_dir: Path) -> None:
    cli = frictionless_validate(release_dir)
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]


def _pages(settings: Settings, release_dir: Path) -> dict[str, str]:
    docs = generate_pages(settings, release_dir)
    return {
        "home": (docs / "index.md").read_text(encoding="utf-8"),
        "park": (docs / "parks" / "VN-NTR" / "index.md").read_text(encoding="utf-8"),
        "quality": (docs / "data-quality" / "index.md").read_text(encoding="utf-8"),
    }


def _status(release_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r["park_id"], r["year"]): (r["year_status"], r["months_reported"])
        for r in _table(release_dir, "park_annual")
    }


def _overall(release_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r["park_id"], r["year"]): (r["status"], r["score"])
        for r in _table(release_dir, "scorecards")
        if r["component"] == "overall"
    }


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("timeline") / "demo"
    generate_demo(root, facilities=8, months=24, seed=5)
    held = root.parent / "held"
    held.mkdir()
    # the last quarter of 2025 has not arrived at the first release
    for path in sorted((root / "inbox").iterdir()):
        if "_2025Q4" in path.name:
            shutil.move(path, held / path.name)
    settings = Settings(workspace=root, datapackages_dir=root.parent / "datapackages", as_of=AS_OF)
    package = settings.datapackages_dir / settings.package_name
    out: dict[str, object] = {"settings": settings, "package": package}

    assert release(settings, "1.0.0", "2026-10-01").success
    out["pages1"] = _pages(settings, package / "1.0.0")

    # Q4 arrives; the factory's December file has its grid row twice (both rejected), and a 2024 month
    # of a factory is restated late
    for path in sorted(held.iterdir()):
        target = root / "inbox" / path.name
        shutil.move(path, target)
        if path.name.endswith(f"{FACTORY}_2025Q4.csv"):
            lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
            grid = [line for line in lines if ",2025-12,energy.electricity.grid," in line]
            assert len(grid) == 1, target.name
            target.write_text("".join(lines) + grid[0], encoding="utf-8")
            out["dropped"] = grid[0]
    assert "dropped" in out, "the factory's Q4 file is a CSV"
    (root / "inbox" / "2026-10-20_restatement.csv").write_text(
        HEADER + "VN-NTR-F001,2024-06,energy.electricity.grid,123456,kWh,,,meter re-read\n", encoding="utf-8"
    )
    assert release(settings, "1.1.0", "2026-10-21").success
    out["pages2"] = _pages(settings, package / "1.1.0")

    # a new year starts with one file from one factory
    (root / "inbox" / "2026-02-05_new_year.csv").write_text(
        HEADER
        + "VN-NTR-F001,2026-01,energy.electricity.grid,400000,kWh,,,\n"
        + "VN-NTR-F001,2026-01,production.output_mass,90000,kg,,,\n",
        encoding="utf-8",
    )
    assert release(settings, "1.2.0", "2026-11-25").success
    out["pages3"] = _pages(settings, package / "1.2.0")
    return out


def test_every_release_passes_frictionless_validate(timeline: dict):
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        _validate(timeline["package"] / version)


def test_release_1_a_year_missing_its_last_quarter_is_not_scored_nor_headlined(timeline: dict):
    first = timeline["package"] / "1.0.0"
    status = _status(first)
    assert status[("VN-NTR", "2024")] == ("complete", "12")
    assert status[("VN-NTR", "2025")] == ("incomplete", "9")
    overall = _overall(first)
    assert overall[("VN-NTR", "2024")][0] == "scored"
    assert overall[("VN-NTR", "2025")] == ("not scored yet", "")
    pages = timeline["pages1"]
    assert "## Headline figures 2024" in pages["home"]
    headline, incomplete = pages["home"].split("## Incomplete year 2025")
    assert "2025" not in headline.split("## Headline figures")[1]
    assert "9 of 12 months reported; not scored yet." in incomplete
    assert "in 2025, incomplete (9 of 12 months)" in incomplete
    assert "## Scorecard 2025 (incomplete year)" in pages["park"]
    assert "not scored yet" in pages["park"]
    assert "Coverage of park totals" in pages["quality"]
    assert "incomplete, 9 of 12" in pages["quality"]


def test_release_2_the_year_is_complete_and_the_rejected_grid_month_is_empty_not_zero(timeline: dict):
    second = timeline["package"] / "1.1.0"
    status = _status(second)
    assert status[("VN-NTR", "2025")] == ("complete", "12")
    assert _overall(second)[("VN-NTR", "2025")][0] == "scored"
    pages = timeline["pages2"]
    assert "## Headline figures 2025" in pages["home"]
    assert "Year to date" not in pages["home"] and "Incomplete year" not in pages["home"]
    assert "## Scorecard 2025\n" in pages["park"]
    # the factory is aggregate-only: its December is inside the park totals, with the grid left out
    coverage = {
        (r["year"], r["topic"]): r for r in _table(second, "park_coverage") if r["park_id"] == "VN-NTR"
    }
    energy = coverage[("2025", "energy")]
    assert int(energy["facility_months_expected"]) - int(energy["facility_months_included"]) >= 1
    assert energy["below_threshold"] == "false"
    with connect(timeline["settings"]) as con:
        december = con.execute(
            "SELECT scope2_location_t_co2e, ghg_intensity_kg_co2e_per_kg, missing_inputs, output_kg "
            "FROM out_facility_monthly WHERE facility_id = ? AND period = '2025-12'",
            [FACTORY],
        ).fetchall()
    assert december == [(None, None, "energy.electricity.grid (rejected)", december[0][3])]
    assert december[0][3] > 0  # the month's other values are in
    changelog = (second / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Changes since release 1.0.0." in changelog
    # the late restatement is of an aggregate-only factory: counted, not listed
    assert "published only in park aggregates: 1 (counted, not listed" in changelog
    assert "meter re-read" not in changelog
    for row in _table(second, "park_annual"):
        for column in ("renewable_electricity_share_pct", "women_share_workforce_pct"):
            assert not row[column] or 0 <= float(row[column]) <= 100


def test_release_3_one_file_for_a_new_year_is_year_to_date_not_scored_not_headlined(timeline: dict):
    second, third = timeline["package"] / "1.1.0", timeline["package"] / "1.2.0"
    assert _status(third)[("VN-NTR", "2026")] == ("year_to_date", "1")
    overall = _overall(third)
    assert overall[("VN-NTR", "2026")] == ("not scored yet", "")
    # one new file changes no score of the complete years
    before = _overall(second)
    assert {k: v for k, v in overall.items() if k[1] != "2026"} == before
    cards = [r for r in _table(third, "scorecards") if r["year"] == "2026"]
    assert {r["status"] for r in cards} == {"not scored yet"}
    assert all(not r["score"] for r in cards)
    pages = timeline["pages3"]
    assert "## Headline figures 2025" in pages["home"]
    assert "## Year to date 2026" in pages["home"]
    assert "1 of 12 months so far; not scored yet." in pages["home"]
    assert "in 2026, year to date (1 of 12 months)" in pages["home"]
    headline = pages["home"].split("## Year to date")[0]
    assert "2026" not in headline.split("## Headline figures")[1]
    assert "## Scorecard 2026 (year to date, 1 of 12 months)" in pages["park"]
    assert "year_to_date" not in pages["quality"] and "year to date, 1 of 12" in pages["quality"]
    changelog = (third / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Changes since release 1.1.0." in changelog
