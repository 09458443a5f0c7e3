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
        Field("established", "year", "Year the park was established."),
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

COMPUTED_RESOURCES: tuple[Resource, ...] = ()

# --- the package ----------------------------------------------------------------------------------------

# Order of the resources in the data package: registry, computed tables, reference tables.
RESOURCES: tuple[Resource, ...] = (PARKS, FACILITIES, *COMPUTED_RESOURCES, *REFERENCE_RESOURCES)


def resource(name: str) -> Resource:
    for candidate in RESOURCES:
        if candidate.name == name:
            return candidate
    known = ", ".join(r.name for r in RESOURCES)
    raise KeyError(f"no published resource {name!r}; known: {known}")
