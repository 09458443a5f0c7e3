"""Partial years and coverage: a year is scored only when complete, changes compare like for like, and a
park total below the coverage threshold is flagged and not scored."""

from __future__ import annotations

import pytest

from tests.indicator_world import Obs, compute, facility, one, reject, rows, warehouse

F1, F2 = "VN-TST-F001", "VN-TST-F002"
FACILITIES = [facility(F1), facility(F2)]


def _month(fid: str, period: str, grid: float, output: float = 50_000) -> list[Obs]:
    return [
        Obs(fid, period, "energy.electricity.grid", grid),
        Obs(fid, period, "production.output_mass", output),
        Obs(fid, period, "water.withdrawal.municipal", 2_000),
    ]


def _year_2025() -> list[Obs]:
    out = []
    for month in range(1, 13):
        # January uses twice the electricity of the other months: a whole-year comparison would differ
        grid = 200_000 if month == 1 else 100_000
        for fid in (F1, F2):
            out += _month(fid, f"2025-{month:02d}", grid)
    return out


def test_one_file_for_a_new_year_is_year_to_date_not_scored_and_compared_like_for_like():
    con = compute(warehouse(FACILITIES, _year_2025() + _month(F1, "2026-01", 190_000)))
    y2025, y2026 = rows(con, "SELECT * FROM pub_park_annual ORDER BY year")
    assert (y2025["year_status"], y2025["months_reported"]) == ("complete", 12)
    assert (y2026["year_status"], y2026["months_reported"]) == ("year_to_date", 1)
    # January 2026 against January 2025 (same factor, same output per facility): 190 / 200 - 1
    assert y2026["ghg_intensity_change_pct"] == pytest.approx(-5.0)
    cards = rows(con, "SELECT * FROM pub_scorecards WHERE year = 2026")
    assert {r["status"] for r in cards} == {"not scored yet"}
    assert all(r["score"] is None for r in cards)
    overall = next(r for r in cards if r["component"] == "overall")
    assert overall["na_reason"] == "year to date, 1 of 12 months: scored once the year is complete"
    change = next(r for r in cards if r["component"] == "ghg_intensity_change")
    assert change["value"] == pytest.approx(-5.0)  # shown, labelled, not scored
    scored_2025 = rows(con, "SELECT status FROM pub_scorecards WHERE year = 2025 AND component = 'overall'")
    assert scored_2025 == [{"status": "scored"}]


def test_a_year_that_has_not_ended_is_year_to_date_even_when_every_month_so_far_is_in():
    months = [o for m in range(1, 12) for fid in (F1, F2) for o in _month(fid, f"2026-{m:02d}", 100_000)]
    con = compute(warehouse(FACILITIES, months))
    row = one(con, "SELECT year_status, months_reported FROM pub_park_annual")
    assert row == {"year_status": "year_to_date", "months_reported": 11}


def test_park_coverage_counts_the_facility_months_inside_each_total():
    observations = [
        o
        for o in _year_2025()
        if not (o.facility_id == F2 and o.period == "2025-04" and o.metric.startswith("energy."))
    ]
    con = warehouse(FACILITIES, observations)
    reject(con, F2, "2025-04", "energy.electricity.grid", "100000")
    compute(con)
    coverage = {
        r["topic"]: r
        for r in rows(con, "SELECT * FROM pub_park_coverage WHERE park_id = 'VN-TST' AND year = 2025")
    }
    assert set(coverage) == {"all", "energy", "production", "water"}
    energy = coverage["energy"]
    assert (energy["facility_months_expected"], energy["facility_months_included"]) == (24, 23)
    assert energy["coverage_pct"] == pytest.approx(100 * 23 / 24)
    assert energy["below_threshold"] is False
    assert coverage["water"]["facility_months_included"] == 24
    assert coverage["all"]["facility_months_included"] == 24


def test_a_topic_below_the_coverage_threshold_is_flagged_and_its_indicators_not_scored():
    # F2's grid rows of six months were rejected: its energy is inside the totals for 6 of 12 months
    observations = [
        o
        for o in _year_2025()
        if not (o.facility_id == F2 and o.metric == "energy.electricity.grid" and o.period >= "2025-07")
    ]
    con = warehouse(FACILITIES, observations)
    for month in range(7, 13):
        reject(con, F2, f"2025-{month:02d}", "energy.electricity.grid", "100000")
    compute(con)
    energy = one(con, "SELECT * FROM pub_park_coverage WHERE year = 2025 AND topic = 'energy'")
    assert (energy["facility_months_included"], energy["below_threshold"]) == (18, True)
    park = one(con, "SELECT year_status, low_coverage_topics FROM pub_park_annual WHERE year = 2025")
    assert park == {"year_status": "complete", "low_coverage_topics": "energy"}
    share = one(
        con,
        "SELECT * FROM pub_scorecards WHERE year = 2025 AND component = 'renewable_electricity_share'",
    )
    assert share["value"] == 0  # known: no solar and no contract was reported against known grid
    assert (share["score"], share["status"]) == (None, "n/a")
    assert share["na_reason"].startswith("coverage of energy below 80 %")
    water = one(con, "SELECT * FROM pub_scorecards WHERE year = 2025 AND component = 'water_recycling_rate'")
    assert water["status"] == "scored"
