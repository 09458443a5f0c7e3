"""Indicators from hand-computed cases: fuels, biomass, grid factors, OHS rates, ZDHC levels, park sums."""

from __future__ import annotations

import pytest

from tests.indicator_world import Obs, compute, facility, one, rows, warehouse


def test_1000_litres_of_diesel_give_scope1_from_the_shipped_factors():
    con = compute(
        warehouse([facility("ET-TST-F001")], [Obs("ET-TST-F001", "2024-03", "energy.fuel.diesel", 1000)])
    )
    row = one(con, "SELECT * FROM out_facility_monthly")
    # 1,000 L x 0.844 kg/L = 844 kg; x 43.0 MJ/kg = 36,292 MJ = 0.036292 TJ
    tj = 1000 * 0.844 * 43.0 / 1_000_000
    # CO2 74,100 + CH4 3 x 28 + N2O 0.6 x 265 = 74,343 kg CO2e per TJ (AR5)
    kg_per_tj = 74_100 + 3 * 28 + 0.6 * 265
    assert kg_per_tj == pytest.approx(74_343)
    assert row["scope1_t_co2e"] == pytest.approx(tj * kg_per_tj / 1000)  # 2.698 t CO2e
    assert row["scope1_t_co2e"] == pytest.approx(2.69806, abs=1e-5)
    assert row["fuel_fossil_gj"] == pytest.approx(36.292)
    assert row["energy_total_gj"] == pytest.approx(36.292)
    assert row["biogenic_co2_t"] == 0
    assert row["gwp_set"] == "ar5"


def test_the_gwp_set_is_configurable():
    con = compute(
        warehouse([facility("ET-TST-F001")], [Obs("ET-TST-F001", "2024-03", "energy.fuel.diesel", 1000)]),
        "ar4",
    )
    row = one(con, "SELECT scope1_t_co2e, gwp_set FROM out_facility_monthly")
    assert row["scope1_t_co2e"] == pytest.approx(0.036292 * (74_100 + 3 * 25 + 0.6 * 298) / 1000)
    assert row["gwp_set"] == "ar4"


def test_biomass_co2_is_a_memo_item_outside_scope1_but_its_ch4_and_n2o_count():
    con = compute(
        warehouse(
            [facility("ET-TST-BOILER", type_="central_boiler")],
            [Obs("ET-TST-BOILER", "2024-03", "energy.fuel.biomass_wood", 10)],  # tonnes
        )
    )
    row = one(con, "SELECT * FROM out_facility_monthly")
    tj = 10 * 1000 * 15.6 / 1_000_000  # 10 t x 15.6 MJ/kg = 0.156 TJ
    assert row["fuel_biomass_gj"] == pytest.approx(156)
    assert row["scope1_t_co2e"] == pytest.approx(tj * (30 * 28 + 4 * 265) / 1000)  # 0.2964 t
    assert row["biogenic_co2_t"] == pytest.approx(tj * 112_000 / 1000)  # 17.472 t


def test_vietnam_2024_uses_the_2023_grid_factor_and_says_so():
    observations = [
        Obs("VN-TST-F001", "2023-05", "energy.electricity.grid", 100_000),
        Obs("VN-TST-F001", "2024-05", "energy.electricity.grid", 100_000),
        Obs("VN-TST-F001", "2024-05", "energy.electricity.renewable_contract", 40_000),
    ]
    con = compute(warehouse([facility("VN-TST-F001")], observations))
    y2023, y2024 = rows(con, "SELECT * FROM out_facility_monthly ORDER BY period")
    assert (y2023["grid_factor_year"], y2023["grid_factor_fallback"]) == (2023, False)
    assert (y2024["grid_factor_year"], y2024["grid_factor_fallback"]) == (2023, True)
    assert y2024["grid_factor_t_co2_per_mwh"] == pytest.approx(0.6592)
    assert y2024["scope2_location_t_co2e"] == pytest.approx(100 * 0.6592)  # 100 MWh
    assert y2024["scope2_market_t_co2e"] == pytest.approx((100 - 40) * 0.6592)
    assert y2024["renewable_electricity_share_pct"] == pytest.approx(40.0)
    park = one(con, "SELECT grid_factor_fallback FROM pub_park_annual WHERE year = 2024")
    assert park["grid_factor_fallback"] is True


def test_ethiopia_grid_electricity_has_zero_scope2():
    con = compute(
        warehouse(
            [facility("ET-TST-F001")], [Obs("ET-TST-F001", "2024-03", "energy.electricity.grid", 250_000)]
        )
    )
    row = one(con, "SELECT * FROM out_facility_monthly")
    assert row["grid_factor_t_co2_per_mwh"] == 0
    assert row["scope2_location_t_co2e"] == 0
    assert row["scope2_market_t_co2e"] == 0
    assert row["energy_total_gj"] == pytest.approx(250_000 * 0.0036)


def test_ltifr_and_trir():
    observations = [
        Obs("KE-TST-F001", "2024-03", "ohs.injuries.lost_time", 2),
        Obs("KE-TST-F001", "2024-03", "ohs.injuries.recordable", 5),
        Obs("KE-TST-F001", "2024-03", "workforce.hours_worked", 400_000),
    ]
    row = one(
        compute(warehouse([facility("KE-TST-F001")], observations)), "SELECT * FROM out_facility_monthly"
    )
    assert row["ltifr"] == pytest.approx(2 * 1_000_000 / 400_000)  # 5.0
    assert row["trir"] == pytest.approx(5 * 200_000 / 400_000)  # 2.5


def _lab(value: float, censored: bool, metric: str = "wastewater.chromium_vi") -> Obs:
    return Obs("ET-TST-F001", "2024-03", metric, value, censored, "discharge", "2024-03-12")


@pytest.mark.parametrize(
    ("observation", "level", "meets"),
    [
        # <0.01 mg/L against 0.05 / 0.005 / 0.001: met foundational, inconclusive for the stricter levels
        (_lab(0.01, True), "foundational", True),
        (_lab(0.1, True), "inconclusive", None),  # detection limit above the foundational limit
        (_lab(0.001, True), "aspirational", True),
        (_lab(0.003, False), "progressive", True),
        (_lab(0.0005, False), "aspirational", True),
        (_lab(0.08, False), "none", False),
        (_lab(7.2, False, "wastewater.ph"), "aspirational", True),
        (_lab(9.5, False, "wastewater.ph"), "none", False),
    ],
)
def test_zdhc_level_of_a_discharge_result(observation: Obs, level: str, meets: bool | None):
    con = compute(warehouse([facility("ET-TST-F001")], [observation]))
    row = one(con, "SELECT * FROM pub_wastewater_results")
    assert (row["zdhc_level"], row["meets_foundational"]) == (level, meets)


def test_chromium_vi_limits_are_the_shipped_ones():
    con = compute(warehouse([facility("ET-TST-F001")], [_lab(0.01, True)]))
    row = one(con, "SELECT * FROM pub_wastewater_results")
    assert (row["limit_foundational"], row["limit_progressive"], row["limit_aspirational"]) == (
        "0.05",
        "0.005",
        "0.001",
    )
    assert row["censored"] is True


def test_foundational_share_leaves_inconclusive_results_out():
    observations = [
        _lab(0.01, True),
        _lab(0.1, True, "wastewater.lead"),  # <0.1 against 0.1: met
        _lab(0.5, True, "wastewater.mercury"),  # <0.5 against 0.01: inconclusive
        _lab(200, False, "wastewater.cod"),  # above 150: not met
    ]
    con = compute(warehouse([facility("ET-TST-F001")], observations))
    row = one(con, "SELECT * FROM pub_facility_monthly")
    assert row["wastewater_results_discharge"] == 4
    assert row["wastewater_results_meeting_foundational"] == 2
    assert row["wastewater_results_inconclusive"] == 1
    assert row["zdhc_foundational_share_pct"] == pytest.approx(100 * 2 / 3)


def test_park_intensity_is_a_ratio_of_sums_not_the_mean_of_facility_intensities():
    observations = [
        Obs("VN-TST-F001", "2023-05", "energy.electricity.grid", 100_000),
        Obs("VN-TST-F001", "2023-05", "production.output_mass", 10_000),
        Obs("VN-TST-F002", "2023-05", "energy.electricity.grid", 300_000),
        Obs("VN-TST-F002", "2023-05", "production.output_mass", 100_000),
    ]
    con = compute(warehouse([facility("VN-TST-F001"), facility("VN-TST-F002")], observations))
    a, b = (
        r["ghg_intensity_kg_co2e_per_kg"] for r in rows(con, "SELECT * FROM out_facility_monthly ORDER BY 1")
    )
    assert a == pytest.approx(100 * 0.6592 * 1000 / 10_000)  # 6.592 kg CO2e/kg
    assert b == pytest.approx(300 * 0.6592 * 1000 / 100_000)  # 1.9776
    park = one(con, "SELECT ghg_intensity_kg_co2e_per_kg AS i FROM pub_park_annual")["i"]
    assert park == pytest.approx(400 * 0.6592 * 1000 / 110_000)  # 2.397
    assert park != pytest.approx((a + b) / 2)  # 4.285


def test_steam_from_the_central_boiler_is_counted_once_in_the_park():
    facilities = [facility("VN-TST-F001"), facility("VN-TST-BOILER", type_="central_boiler")]
    observations = [
        Obs("VN-TST-F001", "2023-05", "energy.steam.purchased", 500),
        Obs("VN-TST-F001", "2023-05", "energy.electricity.grid", 10_000),
        Obs("VN-TST-BOILER", "2023-05", "energy.fuel.biomass_wood", 40),  # 624 GJ
    ]
    con = compute(warehouse(facilities, observations))
    factory = one(con, "SELECT energy_total_gj FROM out_facility_monthly WHERE facility_id = 'VN-TST-F001'")
    assert factory["energy_total_gj"] == pytest.approx(500 + 36)  # steam + 10,000 kWh x 0.0036
    park = one(con, "SELECT * FROM pub_park_monthly")
    assert park["energy_total_gj"] == pytest.approx(624 + 36)
    assert park["steam_from_central_boiler_gj"] == pytest.approx(500)
    assert park["steam_purchased_gj"] == 0


def test_water_recycling_rate_and_intensity():
    observations = [
        Obs("KE-TST-F001", "2024-03", "water.withdrawal.municipal", 600),
        Obs("KE-TST-F001", "2024-03", "water.withdrawal.groundwater", 200),
        Obs("KE-TST-F001", "2024-03", "water.recycled", 200),
        Obs("KE-TST-F001", "2024-03", "production.output_mass", 8_000),
    ]
    row = one(
        compute(warehouse([facility("KE-TST-F001")], observations)), "SELECT * FROM out_facility_monthly"
    )
    assert row["water_withdrawal_m3"] == 800
    assert row["water_recycling_rate_pct"] == pytest.approx(100 * 200 / (800 + 200))  # 20 %
    assert row["water_intensity_l_per_kg"] == pytest.approx(800 * 1000 / 8_000)  # 100 L/kg


def test_completeness_counts_expected_months_of_active_facilities():
    facilities = [
        facility("KE-TST-F001"),
        facility("KE-TST-F002", active_to="2024-01-31"),  # not expected in February and March
        facility("KE-TST-F003", active_from="2024-03-15"),  # expected from March
    ]
    observations = [
        Obs("KE-TST-F001", "2024-01", "training.hours", 10),
        Obs("KE-TST-F001", "2024-03", "training.hours", 10),
        Obs("KE-TST-F002", "2024-01", "training.hours", 10),
    ]
    con = compute(warehouse(facilities, observations))
    quality = one(con, "SELECT * FROM pub_data_quality")
    assert quality["facility_months_expected"] == 3 + 1 + 1
    assert quality["facility_months_reported"] == 3
    assert quality["data_completeness_pct"] == pytest.approx(60.0)
    monthly = rows(
        con, "SELECT period, facilities_expected, facilities_reporting FROM pub_park_monthly ORDER BY 1"
    )
    assert [(r["facilities_expected"], r["facilities_reporting"]) for r in monthly] == [
        (2, 2),
        (1, 0),
        (2, 1),
    ]


def test_mrsl_conformance_and_women_shares():
    observations = [
        Obs("KE-TST-F001", "2024-03", "chemicals.products.total", 80),
        Obs("KE-TST-F001", "2024-03", "chemicals.products.zdhc_level1plus", 60),
        Obs("KE-TST-F001", "2024-03", "workforce.female", 300),
        Obs("KE-TST-F001", "2024-03", "workforce.male", 100),
        Obs("KE-TST-F001", "2024-03", "workforce.supervisors.female", 6),
        Obs("KE-TST-F001", "2024-03", "workforce.supervisors.male", 14),
        Obs("KE-TST-F001", "2024-03", "grievances.received", 8),
        Obs("KE-TST-F001", "2024-03", "grievances.resolved", 6),
        Obs("KE-TST-F001", "2024-03", "training.hours", 1000),
    ]
    row = one(
        compute(warehouse([facility("KE-TST-F001")], observations)), "SELECT * FROM pub_facility_monthly"
    )
    assert row["mrsl_conformance_pct"] == pytest.approx(75.0)
    assert row["women_share_workforce_pct"] == pytest.approx(75.0)
    assert row["women_share_supervisors_pct"] == pytest.approx(30.0)
    assert row["women_supervisor_parity"] == pytest.approx(0.4)
    assert row["grievance_resolution_rate_pct"] == pytest.approx(75.0)
    assert row["training_hours_per_worker"] == pytest.approx(2.5)
