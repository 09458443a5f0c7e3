"""The methodology page is generated from the data files and formula definitions the code uses."""

from __future__ import annotations

from instep import reference
from instep.indicators.formulas import RATIOS
from instep.methodology import methodology_markdown
from instep.scoring import load_rubric


def test_methodology_shows_rubric_factors_limits_formulas_and_conversions():
    text = methodology_markdown()
    for item in load_rubric(1):
        assert item.label in text and f"`{item.column}`" in text
    for ratio in RATIOS:
        assert f"`{ratio.column}` | {ratio.text} |" in text
    for grid in reference.grid_factors():
        assert grid.source in text
    assert "| diesel | Gas/Diesel Oil | 43 | 0.844 |" in text
    assert "latest earlier year" in text
    assert "| wastewater.chromium_vi" not in text  # metric codes are quoted
    assert "| chromium VI | `wastewater.chromium_vi` | mg/L | 0.05 | 0.005 | 0.001 | max |" in text
    assert "| `energy.electricity.grid` | MWh | kWh | 1000 |" in text
    assert "| CH4 | 25 | 28 | 27.9 |" in text


def test_methodology_states_the_missing_input_coverage_and_partial_year_rules():
    from instep.indicators.formulas import INDICATOR_INPUTS
    from instep.metadata.resources import COVERAGE_THRESHOLD_PCT

    text = methodology_markdown()
    assert "never published as zero" in text
    for column in INDICATOR_INPUTS:
        assert f"| `{column}` |" in text
    assert "| `scope2_location_t_co2e` | `energy.electricity.grid` |" in text
    assert f"below {COVERAGE_THRESHOLD_PCT} %" in text
    assert "Scorecards score complete years only" in text
    assert "like for like" in text
