"""The facility overview chart: which months and values each panel draws from the published columns."""

from __future__ import annotations

import pandas as pd

from instep.site import trends


def _monthly(rows: list[dict[str, str]]) -> pd.DataFrame:
    # Release tables are read as text: empty cells are empty strings.
    return pd.DataFrame(rows).fillna("").astype(str)


def test_overview_sums_the_columns_a_month_has_and_skips_empty_months():
    monthly = _monthly(
        [
            # Out of order on purpose: the chart runs in time order.
            {
                "period": "2024-03",
                "scope1_t_co2e": "",
                "scope2_location_t_co2e": "",
                "water_withdrawal_m3": "7",
            },
            {
                "period": "2024-01",
                "scope1_t_co2e": "1.5",
                "scope2_location_t_co2e": "2.25",
                "water_withdrawal_m3": "",
            },
            {
                "period": "2024-02",
                "scope1_t_co2e": "",
                "scope2_location_t_co2e": "4",
                "water_withdrawal_m3": "9.1234567",
            },
        ]
    )
    figure = trends.facility_overview(monthly, "Demo Mill", "facility_monthly")
    assert figure is not None
    rows = figure.data.to_dict("records")
    assert rows == [
        {"month": "2024-01-01", "series": trends.OVERVIEW[0][0], "value": 3.75, "unit": "t CO2e"},
        {"month": "2024-02-01", "series": trends.OVERVIEW[0][0], "value": 4.0, "unit": "t CO2e"},
        {"month": "2024-02-01", "series": "Water withdrawal", "value": 9.123457, "unit": "m3"},
        {"month": "2024-03-01", "series": "Water withdrawal", "value": 7.0, "unit": "m3"},
    ]
    assert figure.alt.startswith("Monthly trends of Demo Mill, 2024-01 to 2024-03")
    panels = [panel["data"]["values"] for panel in figure.chart["vconcat"]]
    assert [len(values) for values in panels] == [2, 2]


def test_overview_of_a_facility_without_figures_is_no_chart():
    monthly = _monthly([{"period": "2024-01", "scope1_t_co2e": "", "energy_total_gj": ""}])
    assert trends.facility_overview(monthly, "Silent Mill", "facility_monthly") is None
    assert trends.facility_overview(_monthly([]).assign(period=[]), "New Mill", "facility_monthly") is None


def test_every_panel_title_is_drawn_whole_with_its_unit():
    import re

    from instep.site import charts
    from instep.site.chartcache import render_svg_png

    monthly = _monthly(
        [
            {
                "period": f"2024-{m:02d}",
                "scope1_t_co2e": "1.5",
                "scope2_location_t_co2e": "2.25",
                "energy_total_gj": "300",
                "renewable_electricity_share_pct": "12",
                "water_withdrawal_m3": "1000",
                "zdhc_foundational_share_pct": "80",
            }
            for m in range(1, 7)
        ]
    )
    figure = trends.facility_overview(monthly, "Alpha Garments", "facility_monthly")
    assert figure is not None
    spec = charts.chart_spec(figure)
    svg, _ = render_svg_png(spec, png=False)
    # a title of several lines is one <text> of <tspan>s
    drawn = [t.replace("&amp;", "&") for t in re.findall(r"<(?:text|tspan)[^>]*>([^<]+)<", svg)]
    assert not [t for t in drawn if "…" in t]  # nothing cut with an ellipsis
    for panel in spec["vconcat"]:
        text = panel["title"]["text"]
        lines = [text] if isinstance(text, str) else text
        assert all(line in drawn for line in lines), lines
        assert " ".join(lines).endswith(")")  # the unit, last, is there
    assert any("(t CO₂e)" in t for t in drawn)


def _park_months(values: dict[str, dict[str, str]], columns: list[str]) -> pd.DataFrame:
    """A park's monthly rows of 2025 (every month a row, as in the release): `values` by period."""
    columns = [*columns, "electricity_grid_kwh", "electricity_renewable_contract_kwh"]
    rows = [
        {"period": f"2025-{month:02d}", **dict.fromkeys(columns, ""), **values.get(f"2025-{month:02d}", {})}
        for month in range(1, 13)
    ]
    return _monthly(rows)


def _mark(figure) -> str:
    mark = figure.chart["mark"]
    return mark if isinstance(mark, str) else mark["type"]


def _x_scale(figure) -> dict:
    return figure.chart["encoding"]["x"]["scale"]


def test_a_single_month_is_one_bar_on_the_table_s_months_and_its_text_says_it_is_the_only_one():
    columns = ["fuel_energy_gj", "water_municipal_m3", "water_groundwater_m3"]
    monthly = _park_months({"2025-12": {"fuel_energy_gj": "7181", "water_municipal_m3": "1492"}}, columns)
    for figure in (
        trends.energy_mix(monthly, "Demo Park", "park_monthly"),
        trends.water(monthly, "Demo Park", "park_monthly"),
    ):
        assert figure is not None
        # An area of one month draws nothing: a single month is a bar, of one month's width, on an axis
        # of the table's twelve months (to the end of December).
        assert _mark(figure) == "bar"
        assert _x_scale(figure)["domain"] == [
            {"year": 2025, "month": 1, "date": 1, "utc": True},
            {"year": 2026, "month": 1, "date": 1, "utc": True},
        ]
        assert "2025-12, the only one of the 12 months from 2025-01 to 2025-12 with a value." in figure.alt
        assert " to 2025-12:" not in figure.alt and "first month" not in figure.alt


def test_energy_is_an_area_over_unbroken_months_and_bars_across_a_gap():
    columns = ["fuel_energy_gj", "steam_purchased_gj"]
    both = {"fuel_energy_gj": "10", "steam_purchased_gj": "5"}
    unbroken = _park_months({"2025-03": both, "2025-04": both, "2025-05": both}, columns)
    figure = trends.energy_mix(unbroken, "Demo Park", "park_monthly")
    assert _mark(figure) == "area"
    # points at the first of each month: the axis ends at the table's last month
    assert _x_scale(figure)["domain"][-1] == {"year": 2025, "month": 12, "date": 1, "utc": True}
    assert "; 3 of the 12 months from 2025-01 to 2025-12 have a value. No month" in figure.alt
    # April withheld: an area would join March to May as if April were known
    gap = _park_months({"2025-03": both, "2025-05": both}, columns)
    assert _mark(trends.energy_mix(gap, "Demo Park", "park_monthly")) == "bar"
    # a series missing in one month of the run: its area would be drawn through that month
    partly = _park_months({"2025-03": both, "2025-04": {"fuel_energy_gj": "10"}, "2025-05": both}, columns)
    assert _mark(trends.energy_mix(partly, "Demo Park", "park_monthly")) == "bar"


def test_months_in_a_window_include_both_ends_across_a_new_year():
    assert trends.months_in(("2025-11", "2026-02")) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert trends.months_in(("2025-06", "2025-06")) == ["2025-06"]


def test_a_line_breaks_at_a_month_without_a_value_and_the_download_holds_only_values():
    monthly = _monthly(
        [
            {"period": f"2025-{month:02d}", "zdhc_foundational_share_pct": value}
            for month, value in ((1, "50"), (2, "60"), (3, ""), (4, "70"))
        ]
    )
    figure = trends.wastewater(monthly, "Demo Park", "park_monthly")
    spec = figure.chart.to_dict()
    values = spec["data"].get("values") or spec["datasets"][spec["data"]["name"]]
    drawn = [(row["month"], row["value"]) for row in values]
    # the missing month is a row without value, where Vega-Lite breaks the line instead of bridging it
    assert drawn == [("2025-01-01", 50.0), ("2025-02-01", 60.0), ("2025-03-01", None), ("2025-04-01", 70.0)]
    assert figure.data["month"].tolist() == ["2025-01-01", "2025-02-01", "2025-04-01"]
