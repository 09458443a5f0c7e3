"""facility_annual and programme_annual: recomputable from the published months and park totals, and
no withheld cell can be recovered from them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from instep.disclosure import rules as disclosure_rules
from instep.indicators import build_indicator_tables
from instep.registry import load_registry, read_registry
from instep.release.annual import FACILITY_YEAR_SUMS
from instep.release.pub_tables import build_pub_tables
from instep.scoring import build_scorecards
from instep.settings import Settings
from instep.warehouse import connect
from tests.test_ingest import HEADER, ingest

# ET-HAW-F002 is aggregate_only and the only one of its park (tests/conftest.py): the park's electricity
# and output cells are withheld. VN-TST has one public facility.
FIRST = HEADER + "".join(
    f"{row}\n"
    for row in [
        "ET-HAW-F001,2024-01,energy.electricity.grid,1000,kWh,,,",
        "ET-HAW-F001,2024-01,energy.fuel.diesel,100,kg,,,",
        "ET-HAW-F001,2024-01,production.output_mass,500,kg,,,",
        "ET-HAW-F001,2024-02,energy.electricity.grid,900,kWh,,,",
        "ET-HAW-F001,2024-02,energy.fuel.diesel,80,kg,,,",
        "ET-HAW-F002,2024-01,energy.electricity.grid,5000,kWh,,,",
        "ET-HAW-F002,2024-01,production.output_mass,2000,kg,,,",
        "VN-TST-F001,2024-01,energy.electricity.grid,2000,kWh,,,",
        "VN-TST-F001,2024-01,energy.electricity.renewable_contract,500,kWh,,,",
        "VN-TST-F001,2024-01,production.output_mass,800,kg,,,",
        "VN-TST-F001,2024-02,energy.electricity.grid,2200,kWh,,,",
        "VN-TST-F001,2024-02,energy.electricity.renewable_contract,500,kWh,,,",
        "VN-TST-F001,2024-02,production.output_mass,900,kg,,,",
        "ET-HAW-F001,2024-01,wages.entry_level_monthly,4000,local currency,,,",
        "VN-TST-F001,2024-01,wages.entry_level_monthly,4500000,local currency,,,",
        "VN-TST-F001,2024-02,wages.entry_level_monthly,4000000,local currency,,,",
    ]
)
RESTATEMENT = HEADER + "VN-TST-F001,2024-02,energy.electricity.grid,2300,kWh,,,meter corrected\n"


@pytest.fixture
def tables(workspace: Settings) -> dict[str, pd.DataFrame]:
    # The Viet Nam park placed where the reference knows its regional minimum (Hung Yen, Region II).
    parks = workspace.registry_dir / "parks.csv"
    parks.write_text(parks.read_text(encoding="utf-8").replace("Nam Dinh", "Hung Yen"), encoding="utf-8")
    (workspace.inbox_dir / "2024-03-01_first.csv").write_text(FIRST, encoding="utf-8")
    (workspace.inbox_dir / "2024-03-09_restatement.csv").write_text(RESTATEMENT, encoding="utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        build_indicator_tables(con, workspace)
        counts = build_pub_tables(con, workspace)
        build_scorecards(con, workspace.rubric_version, workspace.gwp_set)
        assert counts["facility_annual"] > 0 and counts["programme_annual"] > 0
        names = ("facility_monthly", "facility_annual", "park_annual", "programme_annual", "out_park_annual")
        return {
            n: con.execute(f'SELECT * FROM "{n if n.startswith("out_") else "pub_" + n}"').df() for n in names
        }


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _names(value: object) -> set[str]:
    return set(filter(None, _text(value).split(";")))


def _close(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not (isinstance(b, float) and math.isnan(b)) and math.isclose(a, b, rel_tol=1e-9)


def test_facility_annual_is_the_sum_of_the_published_months(tables):
    monthly, annual = tables["facility_monthly"], tables["facility_annual"]
    assert set(annual["facility_id"]) == set(monthly["facility_id"]) and "ET-HAW-F002" not in set(
        annual["facility_id"]
    )
    for (facility_id, year), months in monthly.groupby(["facility_id", "year"]):
        (row,) = annual[(annual["facility_id"] == facility_id) & (annual["year"] == year)].to_dict("records")
        assert row["months_covered"] == len(months)
        incomplete = []
        for column in FACILITY_YEAR_SUMS:
            present = months[column].notna().sum()
            expected = months[column].sum() if present == len(months) else None
            if 0 < present < len(months):
                incomplete.append(column)
            assert _close(row[column], expected), (facility_id, column, row[column], expected)
        assert _names(row["incomplete_fields"]) == set(incomplete)
        s1, s2l, s2m, out = (
            row[c] for c in ("scope1_t_co2e", "scope2_location_t_co2e", "scope2_market_t_co2e", "output_kg")
        )
        if out and not pd.isna(out) and not (pd.isna(s1) and pd.isna(s2l)):
            location = ((0 if pd.isna(s1) else s1) + (0 if pd.isna(s2l) else s2l)) * 1000 / out
            market = ((0 if pd.isna(s1) else s1) + (0 if pd.isna(s2m) else s2m)) * 1000 / out
            assert _close(row["ghg_intensity_kg_co2e_per_kg"], location)
            assert _close(row["ghg_intensity_market_kg_co2e_per_kg"], market)
        assert row["grid_factor_year"] == months["grid_factor_year"].max()
    vn = annual[annual["facility_id"] == "VN-TST-F001"].iloc[0]
    assert vn["output_kg"] == 1700 and vn["months_expected"] == 2 and vn["coverage_pct"] == 100
    assert vn["restated_months"] == 1  # February's grid electricity was restated
    assert vn["ghg_intensity_market_kg_co2e_per_kg"] < vn["ghg_intensity_kg_co2e_per_kg"]
    haw = annual[annual["facility_id"] == "ET-HAW-F001"].iloc[0]
    # February has no output: a year's output of January alone would understate it.
    assert pd.isna(haw["output_kg"]) and "output_kg" in _names(haw["incomplete_fields"])
    assert pd.isna(haw["ghg_intensity_kg_co2e_per_kg"]) and haw["restated_months"] == 0
    assert haw["scope1_t_co2e"] > 0


def test_programme_annual_sums_published_park_totals_only_and_reopens_no_withheld_cell(tables):
    park, programme, hidden = tables["park_annual"], tables["programme_annual"], tables["out_park_annual"]
    haw = park[park["park_id"] == "ET-HAW"].iloc[0]
    withheld = disclosure_rules.withheld_fields(_text(haw["suppressed_fields"]))
    assert "electricity_grid_kwh" in withheld  # the world has a withheld park cell to attack
    total = programme[programme["area"] == "programme"].iloc[0]
    assert total["area_type"] == "programme" and total["parks_reporting"] == 2
    # Only VN-TST shows its electricity: the programme total is VN-TST's, ET-HAW is left out.
    vn = park[park["park_id"] == "VN-TST"].iloc[0]
    assert total["electricity_parks_included"] == 1
    assert total["electricity_grid_kwh"] == vn["electricity_grid_kwh"]
    # The subtraction attack: programme total minus every published park total leaves nothing.
    published = park["electricity_grid_kwh"].dropna().sum()
    assert total["electricity_grid_kwh"] - published == 0
    secret = hidden[hidden["park_id"] == "ET-HAW"].iloc[0]["electricity_grid_kwh"]
    # ET-HAW's year: 1000 + 900 kWh of its public facility and 5000 kWh of the aggregate-only one.
    assert secret == 6900
    figures = set(programme.select_dtypes("number").to_numpy().ravel()) | set(
        tables["facility_annual"].select_dtypes("number").to_numpy().ravel()
    )
    assert {6900, 5000}.isdisjoint(figures)
    # Per country: Ethiopia's electricity is withheld as a whole, Viet Nam's is its park's.
    et = programme[programme["area"] == "ET"].iloc[0]
    assert et["area_type"] == "country" and et["electricity_parks_included"] == 0
    assert pd.isna(et["electricity_grid_kwh"]) and pd.isna(et["renewable_electricity_share_pct"])
    viet_nam = programme[programme["area"] == "VN"].iloc[0]
    share = 100 * vn["electricity_renewable_contract_kwh"] / vn["electricity_grid_kwh"]
    assert _close(viet_nam["renewable_electricity_share_pct"], share)
    # Every figure is a sum of published values: none depends on a withheld cell.
    for column in ("scope1_t_co2e", "scope2_location_t_co2e", "water_withdrawal_m3"):
        if column in withheld:
            assert total[column] == park.loc[park["park_id"] != "ET-HAW", column].sum()


def test_methodology_says_facility_years_are_gate_to_gate_with_the_formulas_used():
    from instep.methodology import methodology_markdown
    from instep.release.annual import FACILITY_YEAR_RATIOS, PROGRAMME_GROUPS

    text = methodology_markdown()
    assert "Gate-to-gate facility emissions, not product footprints" in text
    for ratio in FACILITY_YEAR_RATIOS:
        assert f"| `{ratio.column}` | {ratio.text} (the year's sums) |" in text
    for counter, _ in PROGRAMME_GROUPS:
        assert f"`{counter}`" in text
    assert "## Minimum wages" in text and "| ET | (whole country) |" in text
    assert "no statutory minimum" in text and "4,960,000.00 VND" in text


def test_entry_wage_against_the_legal_minimum_where_one_exists(tables):
    annual = tables["facility_annual"].set_index("facility_id")
    vn = annual.loc["VN-TST-F001"]
    # Decree 38/2022/ND-CP, Region II, in force in January and February 2024: 4,160,000 VND.
    assert vn["minimum_wage_status"] == "statutory" and vn["wage_currency"] == "VND"
    assert vn["minimum_wage_local"] == 4_160_000 and vn["entry_wage_local"] == 4_000_000
    assert _close(vn["entry_wage_to_minimum"], 4_000_000 / 4_160_000)
    assert vn["months_below_minimum"] == 1
    # Ethiopia has no statutory private-sector minimum: said so, with no ratio and no count.
    haw = annual.loc["ET-HAW-F001"]
    assert haw["minimum_wage_status"] == "no_statutory_minimum" and haw["entry_wage_local"] == 4000
    assert pd.isna(haw["entry_wage_to_minimum"]) and pd.isna(haw["months_below_minimum"])


def test_minimum_wage_reference_is_sourced_and_rejects_bad_entries():
    from datetime import date

    from instep import reference

    entries = reference.minimum_wages()
    assert {e.country for e in entries} >= {"ET", "KE", "VN"}
    assert all(e.source for e in entries)
    (ethiopia,) = [e for e in entries if e.country == "ET"]
    assert ethiopia.status == "no_statutory_minimum" and ethiopia.monthly_minimum is None
    row = {
        "country": "VN",
        "region": "Hung Yen",
        "area": "Region II",
        "sector": "all",
        "valid_from": "2024-07-01",
        "valid_to": "",
        "status": "statutory",
        "monthly_minimum": "",
        "currency": "VND",
        "source": "Decree",
    }
    with pytest.raises(ValueError, match="line 9: a statutory minimum needs a positive monthly_minimum"):
        reference._minimum_wage(row, "line 9")
    with pytest.raises(ValueError, match="takes no monthly_minimum"):
        reference._minimum_wage(row | {"status": "no_statutory_minimum", "monthly_minimum": "5"}, "x")
    with pytest.raises(ValueError, match="status 'none' is not one of"):
        reference._minimum_wage(row | {"status": "none"}, "x")
    first = reference._minimum_wage(row | {"monthly_minimum": "1", "valid_from": "2024-01-01"}, "x")
    second = reference._minimum_wage(row | {"monthly_minimum": "2", "valid_from": "2024-06-01"}, "x")
    assert first.valid_to is None and second.valid_from == date(2024, 6, 1)
    with pytest.raises(ValueError, match="VN Hung Yen has two entries on 2024-06-01"):
        reference.check_minimum_wages((first, second))
