"""Scoring: the rubric file, hand-computed scores, and properties over generated parks."""

from __future__ import annotations

import math
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instep.scoring import indicator_score, linear_score, load_rubric, score_park_year
from tests.indicator_world import Obs, compute, facility, rows, warehouse

RUBRIC = load_rubric(1)


def test_rubric_v1_is_the_spec_table():
    weights = {item.pillar: item.pillar_weight for item in RUBRIC}
    assert weights == {
        "energy_climate": 25,
        "water_wastewater": 25,
        "chemicals": 15,
        "social_ohs": 25,
        "transparency": 10,
    }
    thresholds = {item.indicator: (item.floor, item.target) for item in RUBRIC}
    assert thresholds == {
        "renewable_electricity_share": (0, 30),
        "ghg_intensity_change": (0, -10),
        "water_recycling_rate": (0, 40),
        "zdhc_foundational_share": (50, 100),
        "water_intensity_change": (0, -10),
        "mrsl_conformance": (50, 100),
        "ltifr": (10, 1),
        "fatality_free": (None, None),
        "women_supervisor_parity": (0.3, 1.0),
        "grievance_resolution_rate": (50, 95),
        "data_completeness": (50, 100),
        "first_time_acceptance": (80, 100),
    }


@pytest.mark.parametrize(
    ("value", "floor", "target", "score"),
    [
        (15, 0, 30, 50),
        (45, 0, 30, 100),
        (5.5, 10, 1, 50),  # LTIFR: decreasing target
        (0.5, 10, 1, 100),
        (12, 10, 1, 0),
        (-5, 0, -10, 50),  # change in intensity: -10 % is the target
        (3, 0, -10, 0),
        (0.65, 0.3, 1.0, 50),
    ],
)
def test_linear_score(value, floor, target, score):
    assert linear_score(value, floor, target) == pytest.approx(score)


def test_fatality_free_scores_zero_with_any_fatality():
    (item,) = [i for i in RUBRIC if i.indicator == "fatality_free"]
    assert indicator_score(item, 0) == 100
    assert indicator_score(item, 1) == 0
    assert indicator_score(item, None) is None


def test_na_indicators_leave_the_pillar_mean_and_pillars_without_data_leave_the_overall():
    row = {
        "park_id": "KE-TST",
        "year": 2024,
        "year_status": "complete",
        "renewable_electricity_share_pct": 15.0,  # 50
        "ghg_intensity_change_pct": None,  # n/a
        "mrsl_conformance_pct": 100.0,  # 100
        "ltifr": 5.5,  # 50
        "fatalities": 1.0,  # 0
        "women_supervisor_parity": None,
        "grievance_resolution_rate_pct": None,
        "suppressed_fields": "grievance_resolution_rate_pct;women_supervisor_parity",
        "suppression_rules": "grievance_resolution_rate_pct: derived; women_supervisor_parity: persons",
    }
    out = {(r["pillar"], r["component"]): r for r in score_park_year(row, RUBRIC, "ar5")}
    assert out[("energy_climate", "ghg_intensity_change")]["status"] == "n/a"
    assert "previous year" in out[("energy_climate", "ghg_intensity_change")]["na_reason"]
    assert "fewer than 10 persons" in out[("social_ohs", "women_supervisor_parity")]["na_reason"]
    withheld = out[("social_ohs", "grievance_resolution_rate")]["na_reason"]
    assert withheld.startswith("withheld to protect facilities that do not publish their own figures")
    assert out[("energy_climate", "pillar")]["score"] == pytest.approx(50)
    assert out[("social_ohs", "pillar")]["score"] == pytest.approx(25)
    assert out[("water_wastewater", "pillar")]["status"] == "n/a"
    overall = out[("overall", "overall")]
    assert overall["score"] == pytest.approx((50 * 25 + 100 * 15 + 25 * 25) / (25 + 15 + 25))
    assert overall["weight"] == 65
    assert {r["rubric_version"] for r in out.values()} == {1}
    assert {r["gwp_set"] for r in out.values()} == {"ar5"}


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(value=finite, floor=finite, target=finite)
def test_scores_stay_within_0_and_100(value, floor, target):
    if math.isclose(floor, target, abs_tol=1e-6):
        return
    score = linear_score(value, floor, target)
    assert 0 <= score <= 100


@given(values=st.dictionaries(st.sampled_from([i.column for i in RUBRIC]), finite | st.none()))
def test_every_score_of_a_park_year_is_within_0_and_100(values):
    out = score_park_year(
        {"park_id": "KE-TST", "year": 2024, "year_status": "complete", **values}, RUBRIC, "ar5"
    )
    for row in out:
        assert (row["score"] is None) == (row["status"] == "n/a")
        assert row["score"] is None or 0 <= row["score"] <= 100


# A two-year park with every quantity the rubric needs; values in canonical units.
SIZES = {"VN-TST-F001": 1.0, "VN-TST-F002": 2.5}


def _park(scale: float, base: dict[str, float], sizes: dict[str, float] = SIZES) -> list[Obs]:
    out = []
    # Two whole years (only complete years are scored): every expected facility-month is reported.
    for year, trend in (("2023", 1.0), ("2024", 0.9)):
        for month in range(1, 13):
            period = f"{year}-{month:02d}"
            for fid, size in sizes.items():
                for metric, value in base.items():
                    drift = trend if metric.startswith(("energy.", "water.withdrawal")) else 1.0
                    out.append(Obs(fid, period, metric, value * size * drift * scale))
    return out


BASE = {
    "energy.electricity.grid": 100_000,
    "energy.electricity.solar_onsite": 8_000,
    "energy.fuel.diesel": 900,
    "production.output_mass": 40_000,
    "water.withdrawal.municipal": 3_000,
    "water.recycled": 400,
    "chemicals.products.total": 120,
    "chemicals.products.zdhc_level1plus": 70,
    "workforce.female": 300,
    "workforce.male": 200,
    "workforce.supervisors.female": 6,
    "workforce.supervisors.male": 14,
    "workforce.hours_worked": 90_000,
    "ohs.injuries.lost_time": 1,
    "ohs.fatalities": 0,
    "grievances.received": 12,
    "grievances.resolved": 9,
}
RATIO_COLUMNS = (
    "ghg_intensity_kg_co2e_per_kg",
    "energy_intensity_mj_per_kg",
    "water_intensity_l_per_kg",
    "renewable_electricity_share_pct",
    "water_recycling_rate_pct",
    "ghg_intensity_change_pct",
    "water_intensity_change_pct",
    "ltifr",
    "women_supervisor_parity",
)
FACILITIES = [facility("VN-TST-F001"), facility("VN-TST-F002")]


def _scores(con) -> dict[tuple, float | None]:
    return {
        (r["year"], r["pillar"], r["component"]): r["score"]
        for r in rows(con, "SELECT year, pillar, component, score FROM pub_scorecards")
    }


@cache
def _unscaled():
    """The park at scale 1, computed once for all examples (they only read it)."""
    return compute(warehouse(FACILITIES, _park(1.0, BASE)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.floats(min_value=1.0, max_value=1000.0))
def test_scaling_all_quantities_of_a_park_leaves_intensities_and_scores_unchanged(k):
    base = _unscaled()
    scaled = compute(warehouse(FACILITIES, _park(k, BASE)))
    columns = ", ".join(RATIO_COLUMNS)
    for before, after in zip(
        rows(base, f"SELECT {columns} FROM pub_park_annual ORDER BY year"),
        rows(scaled, f"SELECT {columns} FROM pub_park_annual ORDER BY year"),
        strict=True,
    ):
        for column in RATIO_COLUMNS:
            assert (before[column] is None) == (after[column] is None), column
            if before[column] is not None:
                assert after[column] == pytest.approx(before[column], rel=1e-9, abs=1e-9), column
    before, after = _scores(base), _scores(scaled)
    assert before.keys() == after.keys()
    for key, score in before.items():
        assert (score is None) == (after[key] is None)
        if score is not None:
            assert after[key] == pytest.approx(score, rel=1e-9, abs=1e-9), key


# Five reporting facilities, so that one silent one leaves the year above the coverage threshold.
FIVE_SIZES = {f"VN-TST-F00{n}": 1.0 + n / 2 for n in range(1, 6)}
FIVE_REPORTING = [facility(fid) for fid in FIVE_SIZES]


@cache
def _five_reporting():
    return compute(warehouse(FIVE_REPORTING, _park(1.0, BASE, FIVE_SIZES)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(active_from=st.sampled_from(["2020-01-01", "2023-06-01", "2024-02-01"]))
def test_adding_a_facility_without_data_changes_no_score_but_completeness(active_from):
    sizes, reporting = FIVE_SIZES, FIVE_REPORTING
    base = _five_reporting()
    silent = facility("VN-TST-F009", active_from=active_from)
    more = compute(warehouse([*reporting, silent], _park(1.0, BASE, sizes)))
    completeness_driven = {"data_completeness", "pillar", "overall"}
    before, after = _scores(base), _scores(more)
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != pytest.approx(after[key])}
    assert changed, "the silent facility lowers completeness"
    assert all(component in completeness_driven for _, _, component in changed)
    assert all(pillar in ("transparency", "overall") for _, pillar, _ in changed)
    assert all(after[key] <= before[key] for key in changed)


def test_a_year_whose_facility_months_fall_below_the_threshold_is_not_scored():
    silent = facility("VN-TST-F009", active_from="2020-01-01")
    con = compute(warehouse([*FACILITIES, silent], _park(1.0, BASE)))
    statuses = rows(con, "SELECT year, year_status, months_reported FROM pub_park_annual ORDER BY year")
    assert statuses == [
        {"year": 2023, "year_status": "incomplete", "months_reported": 12},
        {"year": 2024, "year_status": "incomplete", "months_reported": 12},
    ]
    cards = rows(con, "SELECT * FROM pub_scorecards WHERE year = 2024")
    assert {r["status"] for r in cards} == {"not scored yet"}
    assert all(r["score"] is None for r in cards)
    share = next(r for r in cards if r["component"] == "renewable_electricity_share")
    assert share["value"] == pytest.approx(100 * 8_000 / 108_000)  # the value is still shown
    assert "below 80 %" in share["na_reason"]
