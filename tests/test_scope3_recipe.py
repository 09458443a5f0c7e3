"""The Scope 3 recipe page runs as written against a demo release, and facility_annual in that release
is its facility_monthly summed."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from instep.release.annual import FACILITY_YEAR_SUMS
from instep.release.verify import verify_release
from instep.settings import REPO_ROOT
from tests.shared_demo import BuiltSite

RECIPE = REPO_ROOT / "site" / "data" / "scope3-recipe.md"
BLOCK = re.compile(r"^```(sql|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.fixture
def demo_release(demo_site: BuiltSite) -> Path:
    assert verify_release(demo_site.release_dir).ok
    return demo_site.release_dir


def _blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(RECIPE.read_text(encoding="utf-8")) if lang == language]


def _same(a: object, b: object) -> bool:
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def test_recipe_code_joins_a_supplier_list_and_allocates_emissions(demo_release: Path, tmp_path, monkeypatch):
    folder = tmp_path / "release"
    shutil.copytree(demo_release, folder)
    annual = pd.read_csv(folder / "data" / "facility_annual.csv", dtype={"os_id": str})
    year = annual.loc[annual["months_expected"] == 12, "year"].max()
    this_year = annual[(annual["year"] == year) & annual["ghg_intensity_market_kg_co2e_per_kg"].notna()]
    with_os_id = this_year[this_year["os_id"].notna()].iloc[0]
    without = this_year[this_year["os_id"].isna()].iloc[0]
    (folder / "suppliers.csv").write_text(
        "supplier,os_id,facility_id,purchased_kg\n"
        f"A by OS ID,{with_os_id['os_id']},,1000\n"
        f"B by facility id,,{without['facility_id']},2500\n"
        "C not published,,XX-NONE-F999,700\n",
        encoding="utf-8",
    )
    expected = {
        "A by OS ID": (
            with_os_id["facility_id"],
            1000 * with_os_id["ghg_intensity_market_kg_co2e_per_kg"] / 1000,
        ),
        "B by facility id": (
            without["facility_id"],
            2500 * without["ghg_intensity_market_kg_co2e_per_kg"] / 1000,
        ),
        "C not published": (None, None),
    }
    monkeypatch.chdir(folder)
    (sql,) = _blocks("sql")
    by_sql = duckdb.sql(sql).df()
    (python,) = _blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(python, str(RECIPE), "exec"), namespace)
    by_pandas = namespace["allocated"]
    assert isinstance(by_pandas, pd.DataFrame)
    for result in (by_sql, by_pandas):
        rows = {r["supplier"]: r for r in result.to_dict("records")}
        assert set(rows) == set(expected)
        for supplier, (facility_id, allocated) in expected.items():
            row = rows[supplier]
            found = row["facility_id"] if isinstance(row["facility_id"], str) else None
            assert found == facility_id, (supplier, row)
            assert _same(row["allocated_t_co2e"], allocated), (supplier, row)
            if facility_id:
                assert row["year"] == year


def test_facility_annual_of_a_release_is_its_facility_monthly_summed(demo_release: Path):
    monthly = pd.read_csv(demo_release / "data" / "facility_monthly.csv")
    annual = pd.read_csv(demo_release / "data" / "facility_annual.csv", dtype={"os_id": str})
    facilities = pd.read_csv(demo_release / "data" / "facilities.csv", dtype={"os_id": str})
    assert len(annual) == monthly.groupby(["facility_id", "year"]).ngroups > 0
    indexed = annual.set_index(["facility_id", "year"])
    for (facility_id, year), months in monthly.groupby(["facility_id", "year"]):
        row = indexed.loc[(facility_id, year)]
        assert row["months_covered"] == len(months)
        for column in FACILITY_YEAR_SUMS:
            complete = months[column].notna().all()
            assert _same(row[column], months[column].sum() if complete else None), (facility_id, column)
        output = row["output_kg"]
        if not pd.isna(output) and output > 0 and not pd.isna(row["energy_total_gj"]):
            assert _same(row["energy_intensity_mj_per_kg"], row["energy_total_gj"] * 1000 / output)
    registry = facilities.set_index("facility_id")
    for facility_id, row in annual.set_index("facility_id").iterrows():
        assert _same(row["os_id"], registry.loc[facility_id, "os_id"])
