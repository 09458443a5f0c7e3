"""Missing is never zero: an indicator is computed only from the inputs it needs, else left empty with why."""

from __future__ import annotations

import pytest

from tests.indicator_world import Obs, compute, facility, one, reject, warehouse

F017 = "VN-TST-F017"


def _steady_months(periods: list[str]) -> list[Obs]:
    out = []
    for period in periods:
        out += [
            Obs(F017, period, "energy.electricity.grid", 120_000),
            Obs(F017, period, "energy.steam.purchased", 500),
            Obs(F017, period, "production.output_mass", 60_000),
        ]
    return out


def test_a_month_whose_grid_rows_were_rejected_has_empty_scope2_and_intensity_not_zero():
    observations = [
        *_steady_months(["2024-01", "2024-02", "2024-03"]),
        Obs(F017, "2024-04", "energy.steam.purchased", 480),
        Obs(F017, "2024-04", "production.output_mass", 58000),
    ]
    con = warehouse([facility(F017)], observations)
    reject(con, F017, "2024-04", "energy.electricity.grid", "121000")
    reject(con, F017, "2024-04", "energy.electricity.grid", "121000")
    compute(con)
    april = one(con, "SELECT * FROM out_facility_monthly WHERE period = '2024-04'")
    for column in (
        "scope2_location_t_co2e",
        "scope2_market_t_co2e",
        "ghg_intensity_kg_co2e_per_kg",
        "energy_total_gj",
        "energy_intensity_mj_per_kg",
        "renewable_electricity_share_pct",
    ):
        assert april[column] is None, column
    assert april["missing_inputs"] == "energy.electricity.grid (rejected)"
    # what does not need the grid is still computed
    assert april["steam_purchased_gj"] == pytest.approx(480)
    march = one(con, "SELECT * FROM out_facility_monthly WHERE period = '2024-03'")
    assert march["scope2_location_t_co2e"] == pytest.approx(120 * 0.6592, rel=1e-3)
    assert march["missing_inputs"] is None
    published = one(
        con,
        "SELECT scope2_location_t_co2e, missing_inputs FROM pub_facility_monthly WHERE period = '2024-04'",
    )
    assert published == {
        "scope2_location_t_co2e": None,
        "missing_inputs": "energy.electricity.grid (rejected)",
    }


def test_a_steady_series_that_stops_is_missing_not_zero():
    observations = [
        *_steady_months(["2024-01", "2024-02"]),
        Obs(F017, "2024-03", "production.output_mass", 61000),
        Obs(F017, "2024-03", "energy.steam.purchased", 510),
    ]
    con = compute(warehouse([facility(F017)], observations))
    march = one(con, "SELECT * FROM out_facility_monthly WHERE period = '2024-03'")
    assert march["missing_inputs"] == "energy.electricity.grid (not reported)"
    assert march["ghg_intensity_kg_co2e_per_kg"] is None
    assert march["energy_total_gj"] is None


def test_a_metric_reported_now_and_then_is_not_expected_every_month():
    observations = [
        *_steady_months(["2024-01", "2024-02", "2024-03"]),
        Obs(F017, "2024-02", "energy.fuel.diesel", 200),
    ]
    con = compute(warehouse([facility(F017)], observations))
    march = one(con, "SELECT * FROM out_facility_monthly WHERE period = '2024-03'")
    assert march["missing_inputs"] is None
    assert march["scope1_t_co2e"] is None  # no fuel reported in March: unknown, not 0
    assert march["ghg_intensity_kg_co2e_per_kg"] == pytest.approx(1000 * 120 * 0.6592 / 60_000, rel=1e-3)


def test_zero_is_published_where_zero_was_submitted():
    con = compute(
        warehouse(
            [facility(F017)],
            [
                Obs(F017, "2024-01", "energy.electricity.grid", 0),
                Obs(F017, "2024-01", "production.output_mass", 1000),
            ],
        )
    )
    row = one(con, "SELECT * FROM out_facility_monthly")
    assert row["scope2_location_t_co2e"] == 0
    assert row["scope1_t_co2e"] is None
    assert row["ghg_intensity_kg_co2e_per_kg"] == 0


def test_a_facility_without_grid_rows_has_no_scope2_rather_than_zero():
    con = compute(warehouse([facility(F017)], [Obs(F017, "2024-01", "energy.fuel.diesel", 1000)]))
    row = one(con, "SELECT * FROM out_facility_monthly")
    assert row["scope2_location_t_co2e"] is None
    assert row["scope2_market_t_co2e"] is None
    assert row["scope1_t_co2e"] > 0


def test_a_part_without_its_whole_is_left_out_so_park_shares_stay_within_100():
    other = "VN-TST-F018"
    observations = [
        Obs(F017, "2024-01", "workforce.female", 300),
        Obs(F017, "2024-01", "workforce.male", 100),
        Obs(other, "2024-01", "workforce.female", 200),  # its male count was rejected
    ]
    con = warehouse([facility(F017), facility(other)], observations)
    reject(con, other, "2024-01", "workforce.male", "150")
    compute(con)
    row = one(con, f"SELECT * FROM out_facility_monthly WHERE facility_id = '{other}'")
    assert (row["workers_female"], row["workers_total"]) == (None, None)
    assert row["missing_inputs"] == "workforce.male (rejected)"
    park = one(con, "SELECT workers_female, workers_total, women_share_workforce_pct FROM out_park_monthly")
    assert park == {"workers_female": 300, "workers_total": 400, "women_share_workforce_pct": 75.0}
