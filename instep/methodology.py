"""The methodology as Markdown, generated from the same definitions and data files the code uses.

Formulas come from `instep.indicators.formulas` (the SQL expressions' text), the rubric from
`instep/rubric/v<N>.csv`, factors and limits from `instep.reference`, unit conversions from
`instep.units.unit_factors()`. The site renders these functions; nothing here is typed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from instep import reference
from instep.disclosure import SMALL_COUNT_BAND, SMALL_COUNT_LIMIT
from instep.disclosure import rules as disclosure_rules
from instep.indicators.formulas import (
    FUEL_METRICS,
    INDICATOR_INPUTS,
    KWH_TO_GJ,
    LTIFR_HOURS,
    RATIOS,
    TRIR_HOURS,
)
from instep.indicators.reference_tables import gj_per_canonical_unit
from instep.metadata.resources import COVERAGE_THRESHOLD_PCT, MIN_PERSONS
from instep.release.annual import (
    FACILITY_YEAR_RATIOS,
    FACILITY_YEAR_SUMS,
    PROGRAMME_GROUPS,
    PROGRAMME_RATIOS,
)
from instep.scoring import load_rubric, pillars
from instep.units import unit_factors


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:g}"


def formulas_markdown(gwp_set: str = "ar5") -> str:
    """Every indicator formula as computed, with the aggregation and disclosure rules."""
    ratio_rows = [(f"`{r.column}`", r.text) for r in RATIOS]
    return (
        "## Formulas\n\n"
        "Values are converted to each metric's canonical unit on ingestion. Amounts are summed from "
        "facility-month to park-month to park-year; every ratio is then computed from the sums (a ratio "
        "of sums, never a mean of facility ratios). Month-end counts (workers, supervisors, managers, "
        "chemical products) are summed over facilities and averaged over the months of a year.\n\n"
        "### Energy and greenhouse gases\n\n"
        f"- Fuel energy (GJ) = fuel quantity in its canonical unit x density (for litres) x net calorific "
        f"value (`fuels.csv`). Electricity in GJ = kWh x {KWH_TO_GJ:g}.\n"
        "- Total energy (GJ) = fuel energy + (grid + on-site solar electricity) + purchased steam.\n"
        "- Park total energy: steam that factories bought from the park's central boiler is not added "
        "(it is already in the boiler's fuel); it is shown as `steam_from_central_boiler_gj`. Output of "
        "the park's shared solar plant counts as on-site solar of the park.\n"
        f"- Scope 1 (t CO2e) = Σ fuel energy (TJ) x (CO2 + CH4 x GWP(CH4) + N2O x GWP(N2O)) kg/TJ / 1000, "
        f"GWP set `{gwp_set}` by default (recorded in `gwp_set` on every row). For biomass fuels the CO2 "
        "term is left out of Scope 1 and reported as the memo item `biogenic_co2_t`; their CH4 and N2O "
        "count in Scope 1.\n"
        "- Scope 2 location-based (t CO2e) = grid MWh x the country's grid factor for the year; when the "
        "year has no factor, the latest earlier year's factor is used and `grid_factor_fallback` is true. "
        "With no earlier factor at all, Scope 2 is empty.\n"
        "- Scope 2 market-based (t CO2e) = max(grid MWh - renewable contract MWh, 0) x the same factor.\n"
        "- Scope 2 covers electricity only: the emissions of steam from a central boiler are the boiler's "
        "Scope 1 in the park totals.\n\n"
        "### Wastewater results against ZDHC limits\n\n"
        "Each discharge sample result with a ZDHC limit is judged at each level: met when the value is at "
        "or below the limit (within the range for pH); a result below the detection limit x (`<x`) is met "
        "when x is at or below the limit and inconclusive otherwise. `zdhc_level` is the strictest level "
        "met together with every looser level (aspirational, progressive, foundational); `none` when the "
        "foundational limit is exceeded; `inconclusive` when even the foundational level cannot be "
        "judged. Example: chromium VI `<0.01` mg/L meets foundational (0.05) and is inconclusive at "
        "progressive (0.005) and aspirational (0.001), so its level is foundational. The foundational "
        "share leaves inconclusive results out of the denominator.\n\n"
        "### Ratios\n\n"
        + _table(["column", "formula"], ratio_rows)
        + f"\nLTIFR is per {LTIFR_HOURS:,} hours worked, TRIR per {TRIR_HOURS:,} hours.\n\n"
        "### Changes against the previous year\n\n"
        "`ghg_intensity_change_pct` and `water_intensity_change_pct` = (this year's park intensity / the "
        "previous year's - 1) x 100, like for like: both intensities are ratios of the sums over the "
        "calendar months with data in both years, so a year to date is compared with the same months of "
        "the year before, never with a whole year. Empty when either has no intensity.\n\n"
        "### Data quality\n\n"
        "- Reporting window: from the first to the last month with any accepted value.\n"
        "- Expected facility-months: months of the window in which a facility is active on at least one "
        "day (registry `active_from`, `active_to`).\n"
        "- Data completeness = expected facility-months with at least one accepted value / expected "
        "facility-months x 100.\n"
        "- First-time acceptance = facility-months whose first submission (in ingest order) had no "
        "rejected row for that facility-month / facility-months submitted x 100. Rows naming an unknown "
        "facility or a malformed period cannot be attributed and are left out.\n\n" + disclosure_markdown()
    )


def disclosure_markdown() -> str:
    """Disclosure control: the attack model, the rules with their parameters and sources, the reasons."""
    params = disclosure_rules.parameters()
    reasons = _table(
        ["rule in suppression_rules", "the cell is withheld because"],
        [(f"`{rule}`", disclosure_rules.reason_text(rule, params)) for rule in disclosure_rules.REASONS],
    )
    parameters = _table(
        ["parameter", "value", "meaning", "source"],
        [
            (f"`{r.parameter}`", f"{r.value} {r.unit}", r.meaning, r.source)
            for r in disclosure_rules.parameter_rows()
        ],
    )
    return (
        "### Disclosure control\n\n"
        "Facilities that disclose only in aggregate appear only inside park totals, never by name or own "
        "series. That promise has to hold against subtraction, so the park tables are protected the way "
        "statistical offices protect tables of business statistics (ESSnet Handbook on Statistical "
        "Disclosure Control, chapter 4).\n\n"
        "**What a reader is assumed to hold.** Every release ever published (old versions stay "
        "downloadable), every published table and chart, the public registry (which facilities exist, "
        "in which park, which publish) and these rules. Every facility that publishes only in aggregate "
        "is also assumed to know its own figures and to try to learn the others'. From all this nobody "
        "may compute a hidden facility's value of any published quantity exactly or to within "
        f"{params.p_percent:g} %, nor the exact sum of two hidden facilities.\n\n"
        "**What a park cell hides.** A park total minus the published facilities of the park is the "
        "sum of the hidden contributions: those of facilities publishing only in aggregate, of the "
        "gender-based-violence grievances that no facility publishes, and of public facilities' own "
        f"counts withheld because fewer than {MIN_PERSONS} persons are behind them. The rules below judge "
        "that hidden sum, month by month and year by year.\n\n"
        "**Primary suppression.** A cell is withheld when fewer than "
        f"{params.min_contributors} hidden facilities reported it, or fewer than {params.min_contributors} "
        "reported a non-zero value (threshold rule); when its "
        f"{params.dominance_n} largest hidden contributions make up more than {params.dominance_k:g} % of "
        f"the hidden sum (dominance rule); or when the second-largest could estimate the largest to within "
        f"{params.p_percent:g} % by subtracting its own value (p % rule; with these parameters every cell "
        "it flags, the dominance rule flags too, and p acts through the protection below). A cell an "
        "earlier release published is also withheld when its change since then comes from fewer than "
        f"{params.min_contributors} hidden facilities: the difference of the two releases would be their "
        "change. A sum of zeros from enough facilities is published: the rules protect sizes, and that a "
        "facility had none of something shows as well in the published totals it did not add to.\n\n"
        "**Secondary suppression.** A year is the sum of its months (month-end counts: their mean); "
        "total energy is fuel energy plus electricity plus purchased steam, fuel energy is fossil plus "
        "biomass, water withdrawal the sum of its sources, Scope 2 grid electricity times the grid "
        "factor. With these relations and the fact that no amount is negative, a reader could work a "
        "withheld cell out from published ones, so more cells are withheld until every withheld "
        f"sensitive cell keeps at least {params.p_percent:g} % of its largest contribution of uncertainty "
        "either side, against an outsider and against each hidden facility. The cells chosen are those "
        "with the smallest hidden sums that give that room; cells an earlier release published "
        "unchanged cannot be withdrawn and are not chosen, cells it withheld stay withheld while "
        "unchanged. A ratio, a change against the previous year, a scorecard value or score computed "
        "from a withheld cell is withheld too, and a pillar's score is the mean of the published scores "
        "only. Headline figures on the home page add up the published park totals and say which parks "
        "they leave out.\n\n"
        "**The audit.** Before a release is published its staged files are attacked as a reader would: "
        "every sensitive cell must be withheld, no published ratio or score may rest on a withheld cell, "
        "and linear programming gives the smallest and largest value each withheld sensitive cell can "
        "take under all the relations of this and every earlier release; the release is refused, "
        "naming the cells, if any interval is narrower than its protection.\n\n"
        "**How a withheld cell is shown.** Empty in CSV, Parquet and DuckDB, named in the row's "
        "`suppressed_fields` with its rule in `suppression_rules`; on the site as *withheld*, never as "
        "0 and never as missing data.\n\n"
        + parameters
        + "\n"
        + reasons
        + "\n- Gender-based-violence grievances are never published per facility; park counts from 1 to "
        f"{SMALL_COUNT_LIMIT - 1} that the rules let through are shown as `{SMALL_COUNT_BAND}`.\n"
        f"- Ratios over fewer than {MIN_PERSONS} persons (women's shares, supervisor parity, training hours "
        "per worker) and the female counts behind them are withheld (rule `persons`).\n"
        "- No submitter identity or comment text is published.\n"
        "- Entry-level wages are published in local currency; a wage-to-legal-minimum ratio is not computed "
        "yet (no sourced minimum-wage reference table).\n"
    )


def _inputs_text(inputs: tuple[str, ...]) -> str:
    fuels = set(FUEL_METRICS)
    named = [f"`{m}`" for m in inputs if m not in fuels]
    if fuels <= set(inputs):
        named.insert(0, "every fuel (`energy.fuel.*`)")
    return ", ".join(named)


def missing_inputs_markdown() -> str:
    """How a missing input, a part of a year and a thin park total are shown (never as zero)."""
    rows = [(f"`{column}`", _inputs_text(inputs)) for column, inputs in INDICATOR_INPUTS.items()]
    return (
        "## Missing inputs, coverage and partial years\n\n"
        "An unknown value is never published as zero. Zero is published only where zero was submitted.\n\n"
        "### Missing inputs\n\n"
        "An input is expected in a facility-month when rows for it were submitted for that month "
        "(whatever became of them), or when the facility reported it in each of the two months before (a "
        "steady series that stops). An expected input without an accepted value is missing: `(rejected)` "
        "when its rows were rejected, `(not reported)` otherwise. Every column computed from a missing "
        "input is left empty for that facility-month and the missing inputs are named in "
        "`missing_inputs`. An input the facility does not report at all (a factory without boilers "
        "reports no fuel) is not expected: Scope 1 is then empty, and the totals and intensities are "
        "made of what the facility reports.\n\n"
        + _table(["column", "inputs"], rows)
        + "\n### Coverage of park totals\n\n"
        "Park totals are sums over the facility-months that have the values. `park_coverage` states, per "
        "park, calendar year and topic, how many of the expected facility-months are inside the totals: "
        "a facility is expected in every month it is active (registry `active_from`, `active_to`) when it "
        "reports the topic at all, and a facility-month is inside when it has an accepted value of the "
        "topic and none of the topic's inputs is missing. A topic below "
        f"{COVERAGE_THRESHOLD_PCT} % is flagged (`below_threshold`, `park_annual.low_coverage_topics`) "
        "and its indicators are not scored.\n\n"
        "### Complete years and years to date\n\n"
        "A year is complete when it has ended on the run's date and its facility-months with any accepted "
        f"value reach {COVERAGE_THRESHOLD_PCT} % of the expected ones (`park_coverage` topic `all`). "
        "Otherwise it is a year to date (`year_status` `year_to_date`, with `months_reported` of 12) or, "
        "once ended, `incomplete`. Scorecards score complete years only; the home page headlines the "
        "latest complete year and shows the year to date apart, labelled.\n"
    )


def rubric_markdown(version: int = 1) -> str:
    rubric = load_rubric(version)
    rows = []
    for items in pillars(rubric).values():
        for item in items:
            how = (
                "0 when any fatality, else 100"
                if item.method == "zero_if_any"
                else f"{_number(item.floor)} → {_number(item.target)}"
            )
            rows.append(
                (
                    item.pillar_label,
                    _number(item.pillar_weight),
                    item.label,
                    f"`{item.column}`",
                    how,
                    item.unit,
                )
            )
    return (
        f"## Scorecard rubric (version {version})\n\n"
        "Indicator score: linear from the floor (0 points) to the target (100 points), clamped to 0-100; "
        "a target below the floor rewards decreases. An indicator without a value is n/a, shown with its "
        "reason and left out of its pillar; so is an indicator whose topic's park totals hold fewer than "
        f"{COVERAGE_THRESHOLD_PCT} % of the expected facility-months. Pillar score = mean of its scored "
        "indicators; overall score = mean of the pillar scores weighted by the pillar weights, over the "
        "pillars with a score. Only complete years are scored: a year to date shows its values, labelled "
        "'not scored yet'.\n\n"
        + _table(["pillar", "weight", "indicator", "park_annual column", "floor → target", "unit"], rows)
    )


def fuel_factors_markdown() -> str:
    rows = [
        (
            f.fuel,
            f.ipcc_category,
            _number(f.ncv_mj_per_kg),
            _number(f.density_kg_per_l),
            f"{gj_per_canonical_unit(f):.6g} GJ per {reference.metrics()[f.metric].canonical_unit}",
            _number(f.co2_kg_per_tj),
            _number(f.ch4_kg_per_tj),
            _number(f.n2o_kg_per_tj),
            "yes" if f.biogenic else "no",
            f.source,
        )
        for f in reference.fuels().values()
    ]
    header = [
        "fuel",
        "IPCC category",
        "NCV MJ/kg",
        "density kg/L",
        "energy per unit",
        "CO2 kg/TJ",
        "CH4 kg/TJ",
        "N2O kg/TJ",
        "biogenic",
        "source",
    ]
    return "## Fuel factors\n\n" + _table(header, rows)


def gwp_markdown() -> str:
    rows = [
        (row["gas"], row["ar4"], row["ar5"], row["ar6"], row["source"])
        for row in reference.read_rows("gwp.csv")
    ]
    return "## Global warming potentials (100-year)\n\n" + _table(
        ["gas", "AR4", "AR5", "AR6", "source"], rows
    )


def grid_factors_markdown() -> str:
    rows = [
        (g.country, g.year, _number(g.t_co2_per_mwh), g.method, g.source)
        for g in sorted(reference.grid_factors(), key=lambda g: (g.country, g.year))
    ]
    return (
        "## Grid emission factors\n\n"
        "The factor of the country and year is used; when the year is missing, the latest earlier year's "
        "factor is used and the row is flagged (`grid_factor_fallback`).\n\n"
        + _table(["country", "year", "t CO2/MWh", "method", "source"], rows)
    )


def zdhc_limits_markdown() -> str:
    rows = [
        (
            z.parameter,
            f"`{z.metric}`",
            z.unit,
            z.foundational,
            z.progressive,
            z.aspirational,
            z.kind,
            z.source,
        )
        for z in reference.zdhc_limits().values()
    ]
    header = ["parameter", "metric", "unit", "foundational", "progressive", "aspirational", "kind", "source"]
    return "## ZDHC wastewater limits\n\n" + _table(header, rows)


def minimum_wages_markdown() -> str:
    """The minimum-wage reference and how the entry-level wage is compared with it."""
    rows = [
        (
            w.country,
            w.region or "(whole country)",
            w.area,
            w.sector,
            w.valid_from.isoformat(),
            w.valid_to.isoformat() if w.valid_to else "",
            "no statutory minimum" if w.monthly_minimum is None else f"{w.monthly_minimum:,.2f} {w.currency}",
            w.source,
        )
        for w in reference.minimum_wages()
    ]
    header = ["country", "region", "where", "who", "from", "to", "monthly minimum", "source"]
    return (
        "## Minimum wages\n\n"
        "`facility_annual.entry_wage_to_minimum` = the facility's entry-level monthly base wage / the legal "
        "minimum in force that month at the park's place, the lowest ratio over the year's months with both "
        "(`months_below_minimum` counts those below 1). Where the law sets no minimum the status says so "
        "and no ratio is computed; where the reference has no entry the status is empty (unknown), never a "
        "ratio against zero. An entry for the park's region wins over one for the whole country.\n\n"
        + _table(header, rows)
    )


def unit_conversions_markdown() -> str:
    rows = [
        (f"`{u.metric}`", u.unit, u.canonical_unit, f"{u.factor:.10g}", u.derivation)
        for u in unit_factors()
        if u.unit != u.canonical_unit
    ]
    return "## Unit conversions\n\ncanonical value = submitted value x factor\n\n" + _table(
        ["metric", "submitted unit", "canonical unit", "factor", "derivation"], rows
    )


def annual_tables_markdown() -> str:
    """facility_annual and programme_annual: what they sum, from which published cells, with which ratios."""
    sums = ", ".join(f"`{c}`" for c in FACILITY_YEAR_SUMS)
    facility_ratios = [(f"`{r.column}`", r.text + " (the year's sums)") for r in FACILITY_YEAR_RATIOS]
    groups = [(f"`{counter}`", ", ".join(f"`{c}`" for c in columns)) for counter, columns in PROGRAMME_GROUPS]
    programme_ratios = [(f"`{r.column}`", r.text + " (the sums)") for r in PROGRAMME_RATIOS]
    return (
        "## Facility years and programme totals\n\n"
        "### Facility years (`facility_annual`)\n\n"
        "**Gate-to-gate facility emissions, not product footprints.** A facility year holds the facility's "
        "own Scope 1 (fuels burned on site) and Scope 2 (electricity bought), with its output over the same "
        "months: what a brand needs to allocate a supplier's emissions to its purchases in a Scope 3 "
        "inventory (category 1). It does not include the emissions of fibres, yarns, chemicals, transport "
        "or anything else upstream or downstream of the facility gate. The Scope 3 recipe on the Data pages "
        "shows the join and an allocation by mass.\n\n"
        f"- Sums of the facility's published months ({sums}); a column is left empty when some months "
        "covered have no value for it while others do (named in `incomplete_fields`): a partial sum would "
        "understate the year. Only public facilities are listed, and only their published months are read, "
        "so a facility year reveals nothing the months do not.\n"
        "- `months_covered` / `months_expected` = `coverage_pct`; expected months are those of the "
        "reporting window in which the facility is active. `restated_months` counts months with a value a "
        "later submission corrected.\n"
        "- `grid_factor_year`: the grid factor's year (the latest when months differ); "
        "`grid_factor_fallback` true when any month used an earlier year's factor.\n\n"
        + _table(["column", "formula"], facility_ratios)
        + "\n### Programme and country totals (`programme_annual`)\n\n"
        "Per year, for the whole programme and for each country: sums of the published park totals "
        "(`park_annual`), in groups. A park whose row withholds any column of a group (disclosure control) "
        "is left out of the whole group and counted out of its `*_parks_included` column, so a total minus "
        "the published park totals never gives a withheld cell. A column a park did not report adds "
        "nothing; a sum that no included park reported is empty.\n\n"
        + _table(["parks counted in", "columns summed"], groups)
        + "\n"
        + _table(["column", "formula"], programme_ratios)
    )


def methodology_markdown(gwp_set: str = "ar5", rubric_version: int = 1) -> str:
    """The whole methodology page."""
    parts = [
        "# Methodology\n",
        formulas_markdown(gwp_set),
        annual_tables_markdown(),
        missing_inputs_markdown(),
        rubric_markdown(rubric_version),
        fuel_factors_markdown(),
        gwp_markdown(),
        grid_factors_markdown(),
        zdhc_limits_markdown(),
        minimum_wages_markdown(),
        unit_conversions_markdown(),
    ]
    return "\n".join(parts)
