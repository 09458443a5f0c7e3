"""End to end on a small demo: ingest -> indicators -> scorecards -> disclosure -> release, twice."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import dagster as dg
import duckdb
import frictionless

from assets import ASSETS
from assets.publish import release_package
from assets.resources import InstepWorkspace
from instep.metadata.resources import RELEASE_RESOURCES, RESOURCES
from instep.release import latest_version, read_index
from instep.settings import Settings
from pipelines.runs import release_run_config
from tests.release_helpers import all_published_bytes, frictionless_validate
from tests.shared_demo import BuiltSite, copy_demo


def release(settings: Settings, version: str, release_date: str) -> dg.ExecuteInProcessResult:
    # The chain up to the release; the site stage has its own tests.
    chain = [a for a in ASSETS if "site" not in set(a.group_names_by_key.values())]
    return dg.materialize(
        chain,
        resources={"instep": InstepWorkspace.from_settings(settings)},
        run_config=release_run_config(version, release_date),
    )


def test_demo_release_then_restatement(demo_site: BuiltSite, tmp_path: Path):
    # the run's demo release 1.0.0, copied to go on from it
    settings = copy_demo(demo_site, tmp_path)
    root = settings.workspace
    package = settings.datapackages_dir / settings.package_name
    first = package / "1.0.0"

    cli = frictionless_validate(first)
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    loaded = frictionless.Package(str(first / "datapackage.json"))
    assert [r.name for r in loaded.resources] == [r.name for r in (*RESOURCES, *RELEASE_RESOURCES)]
    rows = read_index(package)[0]["rows"]
    assert rows["facility_monthly"] > 0 and rows["scorecards"] > 0 and rows["park_annual"] > 0
    con = duckdb.connect()
    assert (
        con.execute(
            f"SELECT count(*) FROM read_parquet('{first / 'data' / 'facility_monthly.parquet'}')"
        ).fetchone()[0]
        == rows["facility_monthly"]
    )
    con.close()

    with (root / "registry" / "facilities.csv").open(encoding="utf-8") as handle:
        registry = list(csv.DictReader(handle))
    hidden = [f for f in registry if f["disclosure"] == "aggregate_only"]
    public = next(f for f in registry if f["disclosure"] == "public" and f["type"] == "factory")
    published = all_published_bytes(package)
    for facility in hidden:
        for secret in (facility["facility_id"].encode(), facility["name"].encode()):
            assert not any(secret in data for data in published.values()), secret

    # A late restatement of one public facility's month, then the next release.
    with (first / "data" / "facility_monthly.csv").open(encoding="utf-8") as handle:
        periods = sorted(
            r["period"] for r in csv.DictReader(handle) if r["facility_id"] == public["facility_id"]
        )
    period = periods[len(periods) // 2]
    (root / "inbox" / "restatement.csv").write_text(
        "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
        f"{public['facility_id']},{period},energy.electricity.grid,123456,kWh,,,corrected meter reading\n",
        encoding="utf-8",
    )
    result = release(settings, "1.1.0", "2026-12-01")
    assert result.success
    metadata = result.asset_materializations_for_node(release_package.op.name)[0].metadata
    assert metadata["version"].value == "1.1.0"
    assert metadata["release_path"].value == str(package / "1.1.0")
    assert latest_version(package) == "1.1.0"
    changelog = (package / "1.1.0" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Changes since release 1.0.0." in changelog
    row_key = f"facility_id={public['facility_id']}; period={period}"
    assert f"| facility_monthly | restated | {row_key} | electricity_grid_kwh |" in changelog
    assert "123456 |" in changelog
    # Numbers at their column's precision: no run of float noise digits.
    assert not re.search(r"\d\.\d{5,}", changelog), changelog
    with (package / "1.1.0" / "data" / "changes.csv").open(encoding="utf-8") as handle:
        changes = list(csv.DictReader(handle))
    restated = [c for c in changes if c["resource"] == "facility_monthly" and c["row_key"] == row_key]
    assert {c["column"] for c in restated} >= {"electricity_grid_kwh", "renewable_electricity_share_pct"}
    grid = next(c for c in restated if c["column"] == "electricity_grid_kwh")
    assert grid["kind"] == "restated" and grid["new"] == "123456" and grid["old"] not in ("", "123456")
    assert {c["kind"] for c in changes} <= {"added", "removed", "restated", "schema"}
    assert not any(f["facility_id"] in c["row_key"] for f in hidden for c in changes)
    assert "corrected meter reading" not in changelog
