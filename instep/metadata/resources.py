"""Every published table, described once.

The release writer, the DuckDB DDL of the release database, the `datapackage.json` schemas and the site's
data dictionary all come from the `Resource` objects below. Resource names are Frictionless resource names
and DuckDB table names; the warehouse holds each one as `pub_<name>` once disclosure has been applied.

Blocks: registry and reference resources (parks, facilities, metrics, emission_factors, zdhc_limits) are
owned by the release; the computed tables (facility_monthly, park_monthly, park_annual, wastewater_results,
scorecards, data_quality) by the indicators.
"""

from __future__ import annotations

from instep.metadata.model import Field, ForeignKey, Resource
from instep.reference import MINIMUM_WAGE_STATUSES

PARK_ID = r"^[A-Z]{2}-[A-Z0-9]{2,6}$"
FACILITY_ID = r"^[A-Z]{2}-[A-Z0-9]{2,6}-[A-Z0-9]{2,8}$"

# --- registry and reference resources (release) ---------------------------------------------------------

PARKS = Resource(
    name="parks",
    title="Industrial parks",
    description="The industrial parks in the programme, from the steward's registry.",
    fields=(
        Field(
            "park_id",
            "string",
            "Park id: ISO 3166-1 alpha-2 country code, a hyphen and a short code.",
            required=True,
            pattern=PARK_ID,
        ),
        Field("name", "string", "Name of the park.", required=True),
        Field("country", "string", "ISO 3166-1 alpha-2 country code.", required=True, pattern=r"^[A-Z]{2}$"),
        Field("region", "string", "Region or province the park is in."),
        Field(
            "lat", "number", "Latitude of the park's centre (WGS 84).", unit="degree", minimum=-90, maximum=90
        ),
        Field(
            "lon",
            "number",
            "Longitude of the park's centre (WGS 84).",
            unit="degree",
            minimum=-180,
            maximum=180,
        ),
        Field("operator", "string", "Organisation operating the park."),
        Field("area_ha", "number", "Area of the park.", unit="ha", minimum=0),
        Field("established", "date", "Day the park was established, as the registry gives it."),
    ),
    primary_key=("park_id",),
)

FACILITIES = Resource(
    name="facilities",
    title="Facilities (public)",
    description=(
        "Facilities that agreed to publish their own figures: factories and the parks' shared plants "
        "(central effluent treatment plants, central boilers, solar plants). Facilities published only in "
        "park aggregates are not listed."
    ),
    fields=(
        Field(
            "facility_id",
            "string",
            "Facility id: the park id, a hyphen and a short code.",
            required=True,
            pattern=FACILITY_ID,
        ),
        Field("park_id", "string", "Park the facility is in.", required=True, pattern=PARK_ID),
        Field("name", "string", "Name of the facility.", required=True),
        Field(
            "type",
            "string",
            "Kind of facility: a factory or a shared plant of the park.",
            required=True,
            enum=("factory", "cetp", "central_boiler", "solar_plant"),
        ),
        Field(
            "sector",
            "string",
            "Sector of a factory; empty for shared plants.",
            enum=("garment", "wet_processing", "spinning", "knitting", "footwear"),
        ),
        Field("os_id", "string", "Open Supply Hub id of the facility, when it has one."),
        Field("active_from", "date", "First day the facility is expected to report.", required=True),
        Field("active_to", "date", "Last day the facility was active; empty while it is active."),
    ),
    primary_key=("facility_id",),
    foreign_keys=(ForeignKey(("park_id",), "parks", ("park_id",)),),
)

METRICS = Resource(
    name="metrics",
    title="Metric catalogue",
    description=(
        "The metrics facilities report, with their canonical and accepted units, the plausible monthly "
        "maximum used by validation, and whether the metric is sensitive (never published per facility)."
    ),
    fields=(
        Field("metric", "string", "Metric code, as used in submissions.", required=True),
        Field("topic", "string", "Topic the metric belongs to.", required=True),
        Field("canonical_unit", "string", "Unit values are converted to on ingestion.", required=True),
        Field("accepted_units", "string", "Units a submission may use, separated by '|'.", required=True),
        Field(
            "plausible_max_per_month",
            "number",
            "Largest monthly value accepted as plausible, in the canonical unit.",
            minimum=0,
        ),
        Field("sensitive", "boolean", "True when the metric is never published per facility.", required=True),
        Field("description", "string", "What the metric measures.", required=True),
    ),
    primary_key=("metric",),
)

EMISSION_FACTORS = Resource(
    name="emission_factors",
    title="Emission factors and global warming potentials",
    description=(
        "Every factor the greenhouse-gas indicators use, one value per row: fuel net calorific values, "
        "CO2/CH4/N2O emission factors and densities (kind 'fuel'), grid electricity factors by country "
        "and year (kind 'grid') and 100-year global warming potentials by IPCC assessment report (kind "
        "'gwp'), each with its source."
    ),
    fields=(
        Field(
            "factor_id",
            "string",
            "Identifier of the factor: kind, subject, parameter and year or set.",
            required=True,
        ),
        Field("kind", "string", "Kind of factor.", required=True, enum=("fuel", "grid", "gwp")),
        Field(
            "subject",
            "string",
            "Fuel code, country code (ISO 3166-1 alpha-2) or greenhouse gas.",
            required=True,
        ),
        Field(
            "parameter",
            "string",
            "Quantity the value gives.",
            required=True,
            enum=("ncv", "co2", "ch4", "n2o", "density", "grid_co2", "gwp"),
        ),
        Field("year", "year", "Year a grid factor applies to; empty for other kinds."),
        Field(
            "gwp_set",
            "string",
            "IPCC assessment report of a global warming potential.",
            enum=("ar4", "ar5", "ar6"),
        ),
        Field("value", "number", "The factor, in `unit`.", required=True),
        Field("unit", "string", "Unit of `value`.", required=True),
        Field("biogenic", "boolean", "For fuels: true when the fuel's CO2 is biogenic (reported apart)."),
        Field("method", "string", "How the factor was derived (grid factors) or the IPCC category (fuels)."),
        Field("source", "string", "Publication the factor is taken from.", required=True),
    ),
    primary_key=("factor_id",),
    sort_by=("kind", "subject", "parameter", "year", "gwp_set"),
)

ZDHC_LIMITS = Resource(
    name="zdhc_limits",
    title="ZDHC wastewater limits",
    description=(
        "Wastewater limit values by parameter and ZDHC level (foundational, progressive, aspirational), one "
        "row per parameter and level. Kind 'max': a result must not exceed the limit; kind 'range': the "
        "result must lie within the limits, inclusive."
    ),
    fields=(
        Field("parameter", "string", "Wastewater parameter.", required=True),
        Field("metric", "string", "Metric code of the parameter in submissions.", required=True),
        Field("unit", "string", "Unit of the limit.", required=True),
        Field(
            "level",
            "string",
            "ZDHC level.",
            required=True,
            enum=("foundational", "progressive", "aspirational"),
        ),
        Field(
            "limit", "string", "The limit as published: a maximum, or 'low-high' for a range.", required=True
        ),
        Field("kind", "string", "How the limit applies.", required=True, enum=("max", "range")),
        Field("limit_min", "number", "Lower bound of a range limit; empty for maximum limits."),
        Field("limit_max", "number", "The maximum, or the upper bound of a range limit.", required=True),
        Field("source", "string", "Publication the limit is taken from.", required=True),
    ),
    primary_key=("metric", "level"),
    foreign_keys=(ForeignKey(("metric",), "metrics", ("metric",)),),
)

REFERENCE_RESOURCES = (METRICS, EMISSION_FACTORS, ZDHC_LIMITS)

# --- computed resources (indicators) --------------------------------------------------------------------

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
GWP_SETS = ("ar4", "ar5", "ar6")
ZDHC_LEVELS = ("aspirational", "progressive", "foundational", "none", "inconclusive")
PILLARS = ("energy_climate", "water_wastewater", "chemicals", "social_ohs", "transparency", "overall")
# Person counts below this are too few to publish a ratio over (SPEC 5).
MIN_PERSONS = 10
# A park total holding fewer of its expected facility-months than this is flagged and not scored, and a
# year is complete only when its facility-months reach it.
COVERAGE_THRESHOLD_PCT = 80
YEAR_STATUSES = ("complete", "year_to_date", "incomplete")
SCORE_STATUSES = ("scored", "n/a", "not scored yet")
ANNUAL_STOCK = " In annual tables: the average of the month-end values over the months with data."


def _amount(name: str, unit: str, description: str) -> Field:
    """A non-negative quantity; null when nothing was reported."""
    return Field(name, "number", description, unit=unit, minimum=0)


def _pct(name: str, description: str, maximum: float | None = 100) -> Field:
    return Field(name, "number", description, unit="%", minimum=0, maximum=maximum)


def _person_ratio(name: str, unit: str, description: str, maximum: float | None = 100) -> Field:
    suppressed = (
        f" Suppressed (null, named in `suppressed_fields`) when fewer than {MIN_PERSONS} persons are "
        "behind it."
    )
    return Field(name, "number", description + suppressed, unit=unit, minimum=0, maximum=maximum)


MISSING_INPUTS = Field(
    "missing_inputs",
    "string",
    "Inputs expected for the month but without an accepted value, separated by ';', each with why: "
    "'(rejected)' when the submitted rows were rejected, '(not reported)' when a series the facility "
    "reports stopped. The columns computed from a missing input are empty (never computed as if it were "
    "zero). Empty when nothing is missing.",
)
FACILITY_ID_FIELD = Field(
    "facility_id",
    "string",
    "Registry id of the facility: park id + facility code.",
    required=True,
    pattern=FACILITY_ID,
)
PARK_ID_FIELD = Field(
    "park_id",
    "string",
    "Registry id of the park: ISO 3166-1 country code + park code.",
    required=True,
    pattern=PARK_ID,
)
PERIOD = Field("period", "yearmonth", "Reporting month YYYY-MM.", required=True, pattern=PERIOD_PATTERN)
YEAR = Field("year", "year", "Calendar year.", required=True)

ENERGY_FIELDS = (
    _amount("electricity_grid_kwh", "kWh", "Electricity drawn from the national grid."),
    _amount(
        "electricity_solar_kwh",
        "kWh",
        "Electricity from on-site solar used in the facility; in park tables including the output of the "
        "park's shared solar plant.",
    ),
    _amount(
        "electricity_renewable_contract_kwh",
        "kWh",
        "Grid electricity covered by a renewable supply contract or certificates (part of the grid kWh).",
    ),
    _amount(
        "steam_purchased_gj",
        "GJ",
        "Purchased steam or heat. In park tables only steam bought from outside the park: steam from the "
        "park's central boiler is already counted as the boiler's fuel (see steam_from_central_boiler_gj).",
    ),
    _amount("fuel_fossil_gj", "GJ", "Energy of fossil fuels burned: mass x net calorific value."),
    _amount("fuel_biomass_gj", "GJ", "Energy of biomass fuels burned: mass x net calorific value."),
    _amount("fuel_energy_gj", "GJ", "Energy of all fuels burned: fuel_fossil_gj + fuel_biomass_gj."),
    _amount(
        "energy_total_gj",
        "GJ",
        "Total energy: fuel energy + electricity (grid + solar, 1 kWh = 0.0036 GJ) + purchased steam.",
    ),
    _pct(
        "renewable_electricity_share_pct",
        "Renewable electricity share: (solar + renewable contract) / (grid + solar) x 100.",
    ),
)
GHG_FIELDS = (
    _amount(
        "scope1_t_co2e",
        "t CO2e",
        "Scope 1: fuel energy (TJ) x (CO2 + CH4 x GWP + N2O x GWP) emission factors; CO2 of biomass excluded "
        "(see biogenic_co2_t), its CH4 and N2O included. GWP set in gwp_set.",
    ),
    _amount("biogenic_co2_t", "t CO2", "Memo item: CO2 from burning biomass, reported outside Scope 1."),
    _amount(
        "scope2_location_t_co2e",
        "t CO2e",
        "Scope 2, location-based: grid MWh x the country grid factor for the year (grid_factor_*).",
    ),
    _amount(
        "scope2_market_t_co2e",
        "t CO2e",
        "Scope 2, market-based: (grid MWh - renewable contract MWh) x the same grid factor.",
    ),
    _amount(
        "grid_factor_t_co2_per_mwh",
        "t CO2/MWh",
        "Grid emission factor used for Scope 2: the country's factor for the year, or the latest earlier "
        "year when the year is missing (grid_factor_fallback).",
    ),
    Field("grid_factor_year", "year", "Year of the grid emission factor used."),
    Field(
        "grid_factor_fallback",
        "boolean",
        "True when no grid factor exists for the year and the latest earlier year's factor was used.",
    ),
    Field("gwp_set", "string", "IPCC assessment report of the GWPs used for CO2e.", enum=GWP_SETS),
)
PRODUCTION_FIELDS = (
    _amount("output_kg", "kg", "Mass of finished product."),
    _amount("output_pieces", "pcs", "Finished garments or pieces."),
    _amount(
        "ghg_intensity_kg_co2e_per_kg",
        "kg CO2e/kg",
        "(Scope 1 + Scope 2 location-based) x 1000 / output_kg; in park tables a ratio of park sums.",
    ),
    _amount("energy_intensity_mj_per_kg", "MJ/kg", "energy_total_gj x 1000 / output_kg."),
)
WATER_FIELDS = (
    _amount("water_municipal_m3", "m3", "Water withdrawn from a municipal or park supply."),
    _amount("water_groundwater_m3", "m3", "Water withdrawn from wells or boreholes."),
    _amount("water_surface_m3", "m3", "Water withdrawn from rivers, lakes or reservoirs."),
    _amount("water_rainwater_m3", "m3", "Rainwater harvested and used."),
    _amount("water_withdrawal_m3", "m3", "Total water withdrawal: the sum of the four sources."),
    _amount("water_recycled_m3", "m3", "Treated wastewater reused."),
    _pct("water_recycling_rate_pct", "Recycling rate: recycled / (withdrawal + recycled) x 100."),
    _amount("water_intensity_l_per_kg", "L/kg", "water_withdrawal_m3 x 1000 / output_kg."),
    _amount("wastewater_to_cetp_m3", "m3", "Wastewater sent to the park's central effluent treatment plant."),
    _amount("wastewater_direct_m3", "m3", "Wastewater discharged to the environment after treatment."),
)
WASTEWATER_RESULT_COUNT_FIELDS = (
    Field(
        "wastewater_results_discharge",
        "integer",
        "Discharge sample results with a ZDHC limit (one per sample and parameter).",
        unit="count",
        minimum=0,
    ),
    Field(
        "wastewater_results_meeting_foundational",
        "integer",
        "Discharge results meeting the ZDHC foundational limit.",
        unit="count",
        minimum=0,
    ),
    Field(
        "wastewater_results_inconclusive",
        "integer",
        "Discharge results below a detection limit that is above the foundational limit (cannot be judged).",
        unit="count",
        minimum=0,
    ),
    _pct(
        "zdhc_foundational_share_pct",
        "Results meeting foundational / (results - inconclusive results) x 100.",
    ),
)
CHEMICAL_FIELDS = (
    _amount(
        "chemical_products_total", "count", "Chemical products in the inventory at month end." + ANNUAL_STOCK
    ),
    _amount(
        "chemical_products_zdhc_level1plus",
        "count",
        "Inventory products with ZDHC MRSL conformance level 1 or higher." + ANNUAL_STOCK,
    ),
    _pct("mrsl_conformance_pct", "MRSL conformance: products level 1+ / products x 100."),
    _amount("chemicals_kg", "kg", "Mass of process chemicals used."),
)
WASTE_FIELDS = (
    _amount("waste_hazardous_kg", "kg", "Hazardous waste generated."),
    _amount("waste_non_hazardous_kg", "kg", "Non-hazardous waste generated."),
    _amount("waste_recycled_kg", "kg", "Waste sent to recycling or reuse."),
)
SOCIAL_FIELDS = (
    _amount("workers_total", "persons", "Workers on payroll at month end (female + male)." + ANNUAL_STOCK),
    _person_ratio("workers_female", "persons", "Female workers at month end." + ANNUAL_STOCK, maximum=None),
    _person_ratio("women_share_workforce_pct", "%", "Women's share of the workforce: female / total x 100."),
    _amount("supervisors_total", "persons", "Supervisors at month end (female + male)." + ANNUAL_STOCK),
    _person_ratio(
        "supervisors_female", "persons", "Female supervisors at month end." + ANNUAL_STOCK, maximum=None
    ),
    _person_ratio("women_share_supervisors_pct", "%", "Women's share of supervisors: female / total x 100."),
    _amount("managers_total", "persons", "Managers at month end (female + male)." + ANNUAL_STOCK),
    _person_ratio("managers_female", "persons", "Female managers at month end." + ANNUAL_STOCK, maximum=None),
    _person_ratio("women_share_managers_pct", "%", "Women's share of managers: female / total x 100."),
    _person_ratio(
        "women_supervisor_parity",
        "ratio",
        "Women's share of supervisors / women's share of the workforce (1 = parity).",
        maximum=None,
    ),
    _amount("hours_worked", "h", "Hours worked by all workers."),
    _amount("injuries_lost_time", "count", "Work-related injuries with at least one lost day."),
    _amount("injuries_recordable", "count", "Recordable work-related injuries (GRI 403-9)."),
    _amount("fatalities", "count", "Work-related fatalities."),
    _amount("lost_days", "days", "Working days lost to work-related injuries."),
    _amount(
        "ltifr", "per 1,000,000 h", "Lost-time injury frequency rate: lost-time injuries x 1,000,000 / hours."
    ),
    _amount("trir", "per 200,000 h", "Total recordable injury rate: recordable injuries x 200,000 / hours."),
    _amount("grievances_received", "count", "Grievances received."),
    _amount("grievances_resolved", "count", "Grievances closed with a resolution."),
    _pct(
        "grievance_resolution_rate_pct",
        "Grievances resolved / grievances received x 100 (may exceed 100 in a month when older "
        "grievances are closed).",
        maximum=None,
    ),
    _amount("training_hours", "h", "Hours of training delivered to workers."),
    _person_ratio(
        "training_hours_per_worker",
        "h/person",
        "Training hours / workers_total (annual tables: per average worker over the year).",
        maximum=None,
    ),
)
SUPPRESSED = Field(
    "suppressed_fields",
    "string",
    "Columns of this row left empty by disclosure control, separated by ';' (why: suppression_rules). "
    "Empty when nothing is withheld. A withheld cell is not missing data: it was reported but publishing "
    "it would reveal the figures of facilities that publish only inside park totals, or a ratio over "
    f"fewer than {MIN_PERSONS} persons.",
)
SUPPRESSION_RULES = Field(
    "suppression_rules",
    "string",
    "Why each column in suppressed_fields is withheld, as 'column: rule' separated by '; '. Rules: "
    "threshold, dominance, p_percent (too few or too dominant facilities that do not publish their own "
    "figures inside the cell), restatement (its change since an earlier release comes from too few of "
    "them), secondary (it would let a withheld cell be computed), derived (computed from a withheld "
    "cell), carried (withheld in an earlier release and unchanged), persons (fewer than "
    f"{MIN_PERSONS} persons behind a ratio). See the methodology page.",
)
MEASURES = (
    ENERGY_FIELDS
    + GHG_FIELDS
    + PRODUCTION_FIELDS
    + WATER_FIELDS
    + WASTEWATER_RESULT_COUNT_FIELDS
    + CHEMICAL_FIELDS
    + WASTE_FIELDS
    + SOCIAL_FIELDS
)
ENTRY_WAGE = _amount(
    "entry_wage_local", "local currency", "Lowest regular monthly base wage paid, in the local currency."
)
PARK_FIELDS = (
    _amount(
        "steam_from_central_boiler_gj",
        "GJ",
        "Steam factories bought from the park's central boiler: shown for information, not added to "
        "energy_total_gj (the boiler's fuel is).",
    ),
    Field(
        "grievances_gbv_received_display",
        "string",
        "Grievances about gender-based violence or harassment received in the park: '' when not reported, "
        "'0', '<5' for 1 to 4, else the number. Never published per facility.",
    ),
)
PARK_MONTH_COVERAGE = (
    Field(
        "facilities_expected",
        "integer",
        "Facilities active in the month (registry active_from/active_to).",
        unit="count",
        minimum=0,
    ),
    Field(
        "facilities_reporting",
        "integer",
        "Facilities with accepted data for the month.",
        unit="count",
        minimum=0,
    ),
)
CHANGE_FIELDS = (
    Field(
        "ghg_intensity_change_pct",
        "number",
        "Change of the Scope 1+2 intensity against the previous year, like for like: (this / previous - 1) "
        "x 100, both intensities over the months with data in both years (a year to date is compared with "
        "the same months of the year before); null when either has no intensity.",
        unit="%",
    ),
    Field(
        "water_intensity_change_pct",
        "number",
        "Change of the water intensity against the previous year, like for like: (this / previous - 1) x "
        "100, both intensities over the months with data in both years; null when either has no "
        "intensity.",
        unit="%",
    ),
)
YEAR_COVERAGE = (
    Field(
        "months_reported",
        "integer",
        "Months of the year with accepted data from any facility of the park.",
        unit="count",
        minimum=0,
        maximum=12,
    ),
    Field(
        "year_status",
        "string",
        "'complete' when the year had ended on the run's date and its facility-months with accepted data "
        f"reach {COVERAGE_THRESHOLD_PCT} % of the expected ones (park_coverage, topic 'all'); "
        "'year_to_date' while the year is running; 'incomplete' when it ended below that coverage. Only "
        "complete years are scored.",
        required=True,
        enum=YEAR_STATUSES,
    ),
    Field(
        "low_coverage_topics",
        "string",
        f"Topics whose totals hold fewer than {COVERAGE_THRESHOLD_PCT} % of the expected facility-months "
        "(park_coverage), separated by ';': their indicators are not scored. Empty when none.",
    ),
)
COMPLETENESS = _pct(
    "data_completeness_pct",
    "Facility-months with accepted data / expected facility-months (active facilities, months of the "
    "reporting window) x 100.",
)
FIRST_TIME = _pct(
    "first_time_acceptance_pct",
    "Facility-months whose first submission had no rejected row / facility-months submitted x 100.",
)
FACILITY_FK = ForeignKey(("facility_id",), "facilities", ("facility_id",))
PARK_FK = ForeignKey(("park_id",), "parks", ("park_id",))

FACILITY_MONTHLY = Resource(
    name="facility_monthly",
    title="Facility indicators by month",
    description=(
        "Indicators of each public facility (factories and shared park plants) per month, computed from the "
        "accepted submissions in canonical units. Facilities that disclose only in aggregate are not listed "
        "(they are inside the park tables)."
    ),
    fields=(
        FACILITY_ID_FIELD,
        PARK_ID_FIELD,
        PERIOD,
        YEAR,
        *MEASURES,
        ENTRY_WAGE,
        MISSING_INPUTS,
        SUPPRESSED,
        SUPPRESSION_RULES,
    ),
    primary_key=("facility_id", "period"),
    foreign_keys=(FACILITY_FK, PARK_FK),
    caveats=(
        "Months a facility did not report are absent; a null cell means the value was not reported, or "
        "could not be computed because an input is missing (named in missing_inputs).",
    ),
)
PARK_MONTHLY = Resource(
    name="park_monthly",
    title="Park indicators by month",
    description=(
        "Park totals per month over all its facilities (including those disclosing only in aggregate), "
        "shared plants counted once; every ratio is a ratio of park sums. Cells that would reveal the "
        "figures of facilities disclosing only in aggregate are withheld (suppressed_fields)."
    ),
    fields=(
        PARK_ID_FIELD,
        PERIOD,
        YEAR,
        *MEASURES,
        *PARK_FIELDS,
        *PARK_MONTH_COVERAGE,
        SUPPRESSED,
        SUPPRESSION_RULES,
    ),
    primary_key=("park_id", "period"),
    foreign_keys=(PARK_FK,),
)
PARK_ANNUAL = Resource(
    name="park_annual",
    title="Park indicators by year",
    description=(
        "Park totals per calendar year (sums of the months; month-end counts averaged), ratios of sums, "
        "changes against the previous year, data completeness and first-time acceptance. The scorecards "
        "are computed from these rows."
    ),
    fields=(
        PARK_ID_FIELD,
        YEAR,
        *MEASURES,
        *PARK_FIELDS,
        *CHANGE_FIELDS,
        COMPLETENESS,
        FIRST_TIME,
        *YEAR_COVERAGE,
        SUPPRESSED,
        SUPPRESSION_RULES,
    ),
    primary_key=("park_id", "year"),
    foreign_keys=(PARK_FK,),
)
WASTEWATER_RESULTS = Resource(
    name="wastewater_results",
    title="Wastewater discharge results against ZDHC limits",
    description=(
        "Each discharge sample result of a public facility with the ZDHC wastewater limits and the strictest "
        "level it demonstrably meets."
    ),
    fields=(
        FACILITY_ID_FIELD,
        PARK_ID_FIELD,
        PERIOD,
        Field("sample_date", "date", "Day the sample was taken.", required=True),
        Field("sample_point", "string", "Where the sample was taken.", enum=("discharge",)),
        Field("metric", "string", "Metric code of the parameter (metrics catalogue).", required=True),
        Field("parameter", "string", "Parameter name as in the ZDHC wastewater guidelines."),
        Field(
            "value",
            "number",
            "Result in `unit`; for a result below the detection limit (censored) the detection limit.",
        ),
        Field("unit", "string", "Unit of value and limits."),
        Field("censored", "boolean", "True for a '<x' result: below the detection limit x."),
        Field("limit_foundational", "string", "ZDHC foundational limit: a maximum, or 'lo-hi' for pH."),
        Field("limit_progressive", "string", "ZDHC progressive limit: a maximum, or 'lo-hi' for pH."),
        Field("limit_aspirational", "string", "ZDHC aspirational limit: a maximum, or 'lo-hi' for pH."),
        Field(
            "zdhc_level",
            "string",
            "Strictest level demonstrably met (aspirational > progressive > foundational); 'none' when the "
            "foundational limit is exceeded; 'inconclusive' when the result is censored at a detection "
            "limit above the foundational limit. A '<x' result meets a level when x is at or below its "
            "limit; at a stricter level with a lower limit it is inconclusive, so the reported level is "
            "the last one met.",
            enum=ZDHC_LEVELS,
        ),
        Field(
            "meets_foundational",
            "boolean",
            "Whether the result meets the foundational limit; null when inconclusive.",
        ),
    ),
    primary_key=("facility_id", "period", "sample_date", "metric"),
    foreign_keys=(FACILITY_FK, PARK_FK),
)
SCORECARDS = Resource(
    name="scorecards",
    title="Park scorecards",
    description=(
        "Per park and year: each rubric indicator with its value, floor, target and score (linear from "
        "floor = 0 to target = 100, clamped), each pillar (mean of its scored indicators) and the overall "
        "score (weighted mean of the pillars with data). Recomputable from park_annual and the rubric."
    ),
    fields=(
        PARK_ID_FIELD,
        YEAR,
        Field("pillar", "string", "Rubric pillar, or 'overall'.", required=True, enum=PILLARS),
        Field(
            "component",
            "string",
            "Indicator code, 'pillar' for the pillar score or 'overall' for the overall score.",
            required=True,
        ),
        Field("label", "string", "Human-readable name of the indicator or pillar."),
        Field("value", "number", "Indicator value from park_annual (unit in `unit`); empty on pillar rows."),
        Field("unit", "string", "Unit of value, floor and target."),
        Field("floor", "number", "Value scoring 0."),
        Field("target", "number", "Value scoring 100."),
        Field(
            "weight",
            "number",
            "Pillar weight on pillar rows; on the overall row the sum of the weights of pillars with data.",
            minimum=0,
        ),
        Field(
            "score", "number", "Score from 0 to 100; empty when n/a.", unit="points", minimum=0, maximum=100
        ),
        Field(
            "status",
            "string",
            "'scored'; 'n/a' when there is no data or its totals are below the coverage threshold; "
            "'not scored yet' for a year that is not complete (park_annual.year_status).",
            required=True,
            enum=SCORE_STATUSES,
        ),
        Field("na_reason", "string", "Why the component is n/a or not scored yet."),
        Field("rubric_version", "integer", "Version of the rubric (instep/rubric/v<N>.csv).", required=True),
        Field("gwp_set", "string", "GWP set of the CO2e values behind the scores.", enum=GWP_SETS),
    ),
    primary_key=("park_id", "year", "pillar", "component"),
    foreign_keys=(PARK_FK,),
)
DATA_QUALITY = Resource(
    name="data_quality",
    title="Data quality by park and year",
    description=(
        "How complete and how clean the submissions of each park were: expected and reported "
        "facility-months, first-time acceptance and the fate of every submitted row attributable to the "
        "park and year."
    ),
    fields=(
        PARK_ID_FIELD,
        YEAR,
        Field(
            "facility_months_expected",
            "integer",
            "Facility-months of active facilities in the reporting window.",
            unit="count",
            minimum=0,
        ),
        Field(
            "facility_months_reported",
            "integer",
            "Expected facility-months with at least one accepted value.",
            unit="count",
            minimum=0,
        ),
        COMPLETENESS,
        Field(
            "submissions",
            "integer",
            "Facility-months submitted (each counted once, judged by its first submission).",
            unit="count",
            minimum=0,
        ),
        Field(
            "submissions_accepted_first_time",
            "integer",
            "Facility-months whose first submission had no rejected row.",
            unit="count",
            minimum=0,
        ),
        FIRST_TIME,
        Field(
            "rows_read",
            "integer",
            "Submitted rows of the park's facilities for the year.",
            unit="count",
            minimum=0,
        ),
        Field("rows_accepted", "integer", "Of rows_read: accepted and current.", unit="count", minimum=0),
        Field(
            "rows_rejected",
            "integer",
            "Of rows_read: rejected by a validation rule.",
            unit="count",
            minimum=0,
        ),
        Field("rows_superseded", "integer", "Of rows_read: restated later.", unit="count", minimum=0),
    ),
    primary_key=("park_id", "year"),
    foreign_keys=(PARK_FK,),
)

PARK_COVERAGE = Resource(
    name="park_coverage",
    title="Coverage of park totals by topic",
    description=(
        "How many of the expected facility-months are inside each park total, per park, calendar year and "
        "topic. A facility is expected in every month it is active when it reports the topic at all; a "
        "facility-month is inside the total when it has an accepted value of the topic and none of the "
        "topic's inputs is missing (facility_monthly.missing_inputs). Topic 'all': facility-months with "
        "any accepted value against every active facility-month."
    ),
    fields=(
        PARK_ID_FIELD,
        YEAR,
        Field("topic", "string", "Metric catalogue topic, or 'all'.", required=True),
        Field(
            "facility_months_expected",
            "integer",
            "Facility-months of the calendar year expected to report the topic.",
            unit="count",
            minimum=0,
        ),
        Field(
            "facility_months_included",
            "integer",
            "Of the expected facility-months: those inside the park's totals of the topic.",
            unit="count",
            minimum=0,
        ),
        _pct("coverage_pct", "facility_months_included / facility_months_expected x 100."),
        Field(
            "below_threshold",
            "boolean",
            f"True when coverage_pct is below {COVERAGE_THRESHOLD_PCT} %: the totals are flagged and not "
            "scored.",
            required=True,
        ),
    ),
    primary_key=("park_id", "year", "topic"),
    foreign_keys=(PARK_FK,),
)

COMPUTED_RESOURCES = (
    FACILITY_MONTHLY,
    PARK_MONTHLY,
    PARK_ANNUAL,
    WASTEWATER_RESULTS,
    SCORECARDS,
    DATA_QUALITY,
    PARK_COVERAGE,
)

# --- annual tables computed from published cells only ----------------------------------------------------

# Every figure of these tables is a sum or ratio of cells already published (facility_monthly,
# park_annual), so they reveal nothing a reader could not compute from the release: no relation is added
# to the disclosure plan.
SUM_OF_MONTHS = (
    " Sum of the facility's published months of the year (facility_monthly); empty when no month has "
    "the value, or when some months covered lack it (then named in incomplete_fields)."
)


def _facility_year_sum(name: str, unit: str, what: str) -> Field:
    return _amount(name, unit, what + SUM_OF_MONTHS)


FACILITY_ANNUAL = Resource(
    name="facility_annual",
    title="Facility indicators by year (for Scope 3 reporting)",
    description=(
        "Per public facility and calendar year: gate-to-gate Scope 1 and 2 emissions of the facility, "
        "output, and intensities per kg, computed from the facility's published months only. These are "
        "facility emissions, not product footprints: a brand allocates them to its purchases (e.g. by its "
        "share of the facility's output) in its own Scope 3 inventory. Facilities that disclose only in "
        "aggregate are not listed."
    ),
    fields=(
        FACILITY_ID_FIELD,
        Field("name", "string", "Facility name as in the registry."),
        Field("os_id", "string", "Open Supply Hub (OS) ID of the facility, when registered."),
        PARK_ID_FIELD,
        Field("country", "string", "ISO 3166-1 alpha-2 country of the park."),
        YEAR,
        Field(
            "months_covered",
            "integer",
            "Months of the year with a published row in facility_monthly.",
            unit="count",
            minimum=0,
            maximum=12,
        ),
        Field(
            "months_expected",
            "integer",
            "Months of the year in the reporting window in which the facility was active (registry "
            "active_from / active_to).",
            unit="count",
            minimum=0,
            maximum=12,
        ),
        _pct("coverage_pct", "months_covered / months_expected x 100."),
        Field(
            "restated_months",
            "integer",
            "Months of the year with at least one value restated by a later submission.",
            unit="count",
            minimum=0,
            maximum=12,
        ),
        _facility_year_sum(
            "scope1_t_co2e", "t CO2e", "Scope 1 (fuels burned on site; biomass CO2 excluded, CH4 and N2O in)."
        ),
        _facility_year_sum("biogenic_co2_t", "t CO2", "Memo item: CO2 of burnt biomass, outside Scope 1."),
        _facility_year_sum("scope2_location_t_co2e", "t CO2e", "Scope 2, location-based."),
        _facility_year_sum("scope2_market_t_co2e", "t CO2e", "Scope 2, market-based."),
        _facility_year_sum("output_kg", "kg", "Mass of finished product."),
        _facility_year_sum("output_pieces", "pcs", "Finished garments or pieces."),
        _facility_year_sum("energy_total_gj", "GJ", "Total energy."),
        _facility_year_sum("water_withdrawal_m3", "m3", "Total water withdrawal."),
        _amount(
            "ghg_intensity_kg_co2e_per_kg",
            "kg CO2e/kg",
            "(Scope 1 + Scope 2 location-based) x 1000 / output_kg over the year's sums.",
        ),
        _amount(
            "ghg_intensity_market_kg_co2e_per_kg",
            "kg CO2e/kg",
            "(Scope 1 + Scope 2 market-based) x 1000 / output_kg over the year's sums.",
        ),
        _amount("energy_intensity_mj_per_kg", "MJ/kg", "energy_total_gj x 1000 / output_kg over the year."),
        _amount("water_intensity_l_per_kg", "L/kg", "water_withdrawal_m3 x 1000 / output_kg over the year."),
        Field(
            "grid_factor_year",
            "year",
            "Year of the grid emission factor used for Scope 2 (the latest when months differ).",
        ),
        Field(
            "grid_factor_fallback",
            "boolean",
            "True when any month used the latest earlier year's grid factor because the year had none.",
        ),
        Field("gwp_set", "string", "IPCC assessment report of the GWPs used for CO2e.", enum=GWP_SETS),
        _amount(
            "entry_wage_local",
            "local currency",
            "Lowest entry-level monthly base wage reported in the year's published months.",
        ),
        Field(
            "minimum_wage_status",
            "string",
            "'statutory' when a legal minimum applied in a month of the year at the park's place "
            "(instep/reference/minimum_wages.csv), 'no_statutory_minimum' when the reference records, with "
            "its source, that none applied in any month; empty when the reference has no entry (unknown).",
            enum=MINIMUM_WAGE_STATUSES,
        ),
        Field(
            "entry_wage_to_minimum",
            "number",
            "Entry-level wage / legal minimum (SPEC 3): the lowest monthly ratio of the year over the months "
            "with a reported wage and a statutory minimum; below 1 means a month paid below the minimum. "
            "Empty where no minimum exists or none is known.",
            unit="ratio",
            minimum=0,
        ),
        _amount(
            "minimum_wage_local",
            "local currency",
            "The statutory monthly minimum of the month with the lowest ratio.",
        ),
        Field(
            "months_below_minimum",
            "integer",
            "Months whose entry-level wage was below the statutory minimum; empty without a known minimum.",
            unit="count",
            minimum=0,
            maximum=12,
        ),
        Field("wage_currency", "string", "ISO 4217 currency of the wage and the minimum."),
        Field(
            "incomplete_fields",
            "string",
            "Columns left empty because some months covered lack the value while others have it, "
            "separated by ';' (a partial sum would understate the year). Empty when none.",
        ),
    ),
    primary_key=("facility_id", "year"),
    foreign_keys=(FACILITY_FK, PARK_FK),
    caveats=(
        "Gate-to-gate facility emissions (Scope 1 and 2 of the facility), not product carbon footprints.",
        "A year with months_covered below months_expected is partial: compare coverage_pct before use.",
    ),
)

PROGRAMME_AREAS = ("programme", "country")
PARKS_INCLUDED = " Sum over the parks of the area whose figure is published in park_annual; see {}."


def _area_sum(name: str, unit: str, what: str, parks_column: str) -> Field:
    return _amount(name, unit, what + PARKS_INCLUDED.format(parks_column))


def _parks_included(name: str, figures: str) -> Field:
    return Field(
        name,
        "integer",
        f"Parks whose park_annual row withholds none of {figures}; the others are left out of these "
        "sums (a figure a park did not report adds nothing; a sum no included park reported is empty).",
        unit="count",
        minimum=0,
    )


PROGRAMME_ANNUAL = Resource(
    name="programme_annual",
    title="Programme and country totals by year",
    description=(
        "Per calendar year, the headline totals of the whole programme and of each country: sums of the "
        "published park totals (park_annual) and ratios of those sums. A park whose figure is withheld "
        "by disclosure control is left out of that figure (counted in its parks_included column), so "
        "nothing withheld can be recovered by subtraction."
    ),
    fields=(
        YEAR,
        Field(
            "area",
            "string",
            "'programme' for all parks, else the ISO 3166-1 alpha-2 country code.",
            required=True,
        ),
        Field("area_type", "string", "'programme' or 'country'.", required=True, enum=PROGRAMME_AREAS),
        Field("parks_reporting", "integer", "Parks with a park_annual row for the year.", unit="count"),
        Field(
            "parks_complete",
            "integer",
            "Of parks_reporting: those whose year is complete (park_annual.year_status).",
            unit="count",
        ),
        _area_sum("scope1_t_co2e", "t CO2e", "Scope 1.", "ghg_parks_included"),
        _area_sum("scope2_location_t_co2e", "t CO2e", "Scope 2, location-based.", "ghg_parks_included"),
        _area_sum("scope2_market_t_co2e", "t CO2e", "Scope 2, market-based.", "ghg_parks_included"),
        _parks_included("ghg_parks_included", "Scope 1 and both Scope 2 figures"),
        _area_sum("electricity_grid_kwh", "kWh", "Grid electricity.", "electricity_parks_included"),
        _area_sum("electricity_solar_kwh", "kWh", "Solar electricity.", "electricity_parks_included"),
        _area_sum(
            "electricity_renewable_contract_kwh",
            "kWh",
            "Renewable contract electricity.",
            "electricity_parks_included",
        ),
        _pct(
            "renewable_electricity_share_pct",
            "(solar + renewable contract) / (grid + solar) x 100 over the sums above.",
        ),
        _parks_included("electricity_parks_included", "all three electricity figures"),
        _area_sum("water_withdrawal_m3", "m3", "Water withdrawal.", "water_parks_included"),
        _parks_included("water_parks_included", "water_withdrawal_m3"),
        Field(
            "wastewater_results_discharge",
            "integer",
            "Discharge results with a ZDHC limit." + PARKS_INCLUDED.format("wastewater_parks_included"),
            unit="count",
            minimum=0,
        ),
        Field(
            "wastewater_results_meeting_foundational",
            "integer",
            "Results meeting the foundational limit." + PARKS_INCLUDED.format("wastewater_parks_included"),
            unit="count",
            minimum=0,
        ),
        Field(
            "wastewater_results_inconclusive",
            "integer",
            "Results that cannot be judged." + PARKS_INCLUDED.format("wastewater_parks_included"),
            unit="count",
            minimum=0,
        ),
        _pct(
            "zdhc_foundational_share_pct",
            "Results meeting foundational / (results - inconclusive results) x 100 over the sums above.",
        ),
        _parks_included("wastewater_parks_included", "the three wastewater result counts"),
    ),
    primary_key=("year", "area"),
)
AGGREGATE_RESOURCES = (FACILITY_ANNUAL, PROGRAMME_ANNUAL)

# Columns the warehouse keeps before disclosure and never publishes (disclosure drops them).
WAREHOUSE_ONLY_FIELDS: dict[str, tuple[Field, ...]] = {
    "facility_monthly": (
        Field(
            "disclosure", "string", "Registry disclosure of the facility.", enum=("public", "aggregate_only")
        ),
        Field("facility_type", "string", "Registry type of the facility."),
        _amount("grievances_gbv_received", "count", "Sensitive: gender-based violence grievances."),
    ),
    "park_monthly": (
        _amount("grievances_gbv_received", "count", "Sensitive: gender-based violence grievances."),
    ),
    "park_annual": (
        _amount("grievances_gbv_received", "count", "Sensitive: gender-based violence grievances."),
    ),
    "wastewater_results": (
        Field(
            "disclosure", "string", "Registry disclosure of the facility.", enum=("public", "aggregate_only")
        ),
    ),
}

# --- the package ----------------------------------------------------------------------------------------

# Order of the resources in the data package: registry, computed tables, reference tables.
RESOURCES: tuple[Resource, ...] = (
    PARKS,
    FACILITIES,
    *COMPUTED_RESOURCES,
    *AGGREGATE_RESOURCES,
    *REFERENCE_RESOURCES,
)


def resource(name: str) -> Resource:
    for candidate in RESOURCES:
        if candidate.name == name:
            return candidate
    known = ", ".join(r.name for r in RESOURCES)
    raise KeyError(f"no published resource {name!r}; known: {known}")


def warehouse_fields(name: str) -> tuple[Field, ...]:
    """Columns of `out_<name>`: the published fields plus the warehouse-only ones."""
    return resource(name).fields + WAREHOUSE_ONLY_FIELDS.get(name, ())


# --- tables the release writer computes itself ----------------------------------------------------------

CHANGE_KINDS = ("added", "removed", "restated", "schema")
# The `column` of a change that concerns a whole row or a whole resource.
WHOLE_ROW = "*"

CHANGES = Resource(
    name="changes",
    title="Changes since the previous release",
    description=(
        "Every row added or removed, every published value restated and every schema change of this "
        "release against the previous one (listed in releases.json). Empty in a first release. Values are "
        "spelt as in the CSV files. Rows of facilities that are no longer published individually are not "
        "listed (CHANGELOG.md counts them)."
    ),
    fields=(
        Field("resource", "string", "Resource (table) of the change.", required=True),
        Field(
            "kind",
            "string",
            "'added' or 'removed' for a whole row, 'restated' for a value that changed, 'schema' for a "
            "change of the resource's table schema.",
            required=True,
            enum=CHANGE_KINDS,
        ),
        Field(
            "row_key",
            "string",
            "The changed row's primary key as 'field=value' separated by '; '; for a schema change the "
            "part of the schema that changed: 'resource', 'field', 'type', 'unit' or 'primaryKey'.",
            required=True,
        ),
        Field(
            "column",
            "string",
            f"The column whose value or schema changed; '{WHOLE_ROW}' for a whole row or resource.",
            required=True,
        ),
        Field("old", "string", "Value in the previous release (empty: null, or the row did not exist)."),
        Field("new", "string", "Value in this release (empty: null, or the row was removed)."),
    ),
    primary_key=("resource", "kind", "row_key", "column"),
)
RELEASE_RESOURCES = (CHANGES,)
