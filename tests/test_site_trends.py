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
