"""The steward's registry as the warehouse holds it: `parks`, `facilities` and `confirmations`.

The registry files (`registry/parks.csv`, `registry/facilities.csv`, `registry/confirmations.csv`) have
exactly these columns, in this order. The published `parks` and `facilities` resources are the same fields
(the facilities without `disclosure`, which decides who is published), so a registry column is described
once, in `resources.py`.
"""

from __future__ import annotations

from instep.metadata.model import Field, Resource
from instep.metadata.resources import FACILITIES, PARKS

DISCLOSURES = ("public", "aggregate_only")

DISCLOSURE = Field(
    "disclosure",
    "string",
    "Whether the facility publishes its own figures ('public') or appears only inside park totals "
    "('aggregate_only').",
    required=True,
    enum=DISCLOSURES,
)

REGISTRY_PARKS = Resource(
    name="parks",
    title="Registry: parks",
    description="The parks of the steward's registry (registry/parks.csv), replaced on every run.",
    fields=PARKS.fields,
    primary_key=PARKS.primary_key,
    row="park",
)


def _facility_fields() -> tuple[Field, ...]:
    # The registry file puts `disclosure` after `os_id`.
    published = list(FACILITIES.fields)
    position = FACILITIES.field_names.index("os_id") + 1
    return (*published[:position], DISCLOSURE, *published[position:])


REGISTRY_FACILITIES = Resource(
    name="facilities",
    title="Registry: facilities",
    description=(
        "Every facility of the steward's registry (registry/facilities.csv), public or aggregate-only, "
        "replaced on every run. Submissions are judged against it."
    ),
    fields=_facility_fields(),
    primary_key=FACILITIES.primary_key,
    foreign_keys=FACILITIES.foreign_keys,
    row="facility",
)

CONFIRMATIONS = Resource(
    name="confirmations",
    title="Registry: confirmed rows",
    description=(
        "Rows the steward confirmed although they break the facility's history (implausible_change), from "
        "the optional registry/confirmations.csv: one row by submission_id and row_number, or every row "
        "of a facility, period and metric."
    ),
    fields=(
        Field("submission_id", "string", "Submission of the confirmed row."),
        Field("row_number", "integer", "Data row of the confirmed row in its submission (1 = first)."),
        Field("facility_id", "string", "Facility whose rows of `period` and `metric` are confirmed."),
        Field("period", "yearmonth", "Reporting month of the confirmed rows, YYYY-MM."),
        Field("metric", "string", "Metric of the confirmed rows."),
        Field("note", "string", "The steward's reason for the confirmation."),
    ),
    primary_key=(),
    row="confirmed row",
)

REGISTRY_TABLES = (REGISTRY_PARKS, REGISTRY_FACILITIES, CONFIRMATIONS)
