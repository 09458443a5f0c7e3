"""Reference tables shipped with the project (factors, limits, metric catalogue), read from CSV.

The CSV files beside this module are the single source of every number used in the methodology; code
never repeats them.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent

REFERENCE_FILES = (
    "metrics.csv",
    "fuels.csv",
    "gwp.csv",
    "grid_factors.csv",
    "zdhc_wastewater_limits.csv",
    "units.csv",
    "metric_relations.csv",
    "history_plausibility.csv",
    "minimum_wages.csv",
)


def read_rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def file_sha256(name: str) -> str:
    return hashlib.sha256((REFERENCE_DIR / name).read_bytes()).hexdigest()


def _optional_float(text: str) -> float | None:
    return float(text) if text.strip() else None


@dataclass(frozen=True)
class Metric:
    code: str
    topic: str
    canonical_unit: str
    accepted_units: tuple[str, ...]
    plausible_max_per_month: float | None
    sensitive: bool
    description: str

    @property
    def is_wastewater_sample(self) -> bool:
        """Lab results of a wastewater sample (they need sample point and date), not volumes."""
        return self.topic == "wastewater"


@dataclass(frozen=True)
class Fuel:
    fuel: str
    ipcc_category: str
    ncv_mj_per_kg: float
    co2_kg_per_tj: float
    ch4_kg_per_tj: float
    n2o_kg_per_tj: float
    biogenic: bool
    density_kg_per_l: float | None
    source: str

    @property
    def metric(self) -> str:
        return f"energy.fuel.{self.fuel}"


@dataclass(frozen=True)
class GridFactor:
    country: str
    year: int
    t_co2_per_mwh: float
    method: str
    source: str


@dataclass(frozen=True)
class ZdhcLimit:
    parameter: str
    metric: str
    unit: str
    foundational: str
    progressive: str
    aspirational: str
    kind: str  # "max" (result must not exceed) or "range" ("lo-hi", inclusive)
    source: str


@cache
def metrics() -> dict[str, Metric]:
    return {
        row["metric"]: Metric(
            code=row["metric"],
            topic=row["topic"],
            canonical_unit=row["canonical_unit"],
            accepted_units=tuple(row["accepted_units"].split("|")),
            plausible_max_per_month=_optional_float(row["plausible_max_per_month"]),
            sensitive=row["sensitive"].strip().lower() == "true",
            description=row["description"],
        )
        for row in read_rows("metrics.csv")
    }


@cache
def fuels() -> dict[str, Fuel]:
    return {
        row["fuel"]: Fuel(
            fuel=row["fuel"],
            ipcc_category=row["ipcc_category"],
            ncv_mj_per_kg=float(row["ncv_mj_per_kg"]),
            co2_kg_per_tj=float(row["co2_kg_per_tj"]),
            ch4_kg_per_tj=float(row["ch4_kg_per_tj"]),
            n2o_kg_per_tj=float(row["n2o_kg_per_tj"]),
            biogenic=row["biogenic"].strip().lower() == "true",
            density_kg_per_l=_optional_float(row["density_kg_per_l"]),
            source=row["source"],
        )
        for row in read_rows("fuels.csv")
    }


@cache
def gwp(gwp_set: str) -> dict[str, float]:
    """Global warming potentials of CO2, CH4 and N2O for an assessment report ("ar4", "ar5", "ar6")."""
    rows = read_rows("gwp.csv")
    key = gwp_set.lower()
    if key not in rows[0]:
        known = ", ".join(k for k in rows[0] if k.startswith("ar"))
        raise ValueError(f"unknown GWP set {gwp_set!r}; expected one of {known}")
    return {row["gas"]: float(row[key]) for row in rows}


@cache
def grid_factors() -> tuple[GridFactor, ...]:
    return tuple(
        GridFactor(
            country=row["country"],
            year=int(row["year"]),
            t_co2_per_mwh=float(row["t_co2_per_mwh"]),
            method=row["method"],
            source=row["source"],
        )
        for row in read_rows("grid_factors.csv")
    )


@cache
def zdhc_limits() -> dict[str, ZdhcLimit]:
    return {
        row["metric"]: ZdhcLimit(
            parameter=row["parameter"],
            metric=row["metric"],
            unit=row["unit"],
            foundational=row["foundational"],
            progressive=row["progressive"],
            aspirational=row["aspirational"],
            kind=row["kind"],
            source=row["source"],
        )
        for row in read_rows("zdhc_wastewater_limits.csv")
    }


@dataclass(frozen=True)
class MetricRelation:
    """A part that can never exceed its whole in one facility-month (the whole may be a sum)."""

    relation: str
    part: str
    whole: tuple[str, ...]
    rule: str

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.part, *self.whole)


@cache
def metric_relations() -> tuple[MetricRelation, ...]:
    catalogue = metrics()
    out = []
    for row in read_rows("metric_relations.csv"):
        relation = MetricRelation(row["relation"], row["part"], tuple(row["whole"].split("+")), row["rule"])
        unknown = [m for m in relation.metrics if m not in catalogue]
        if unknown:
            raise ValueError(f"metric_relations.csv: {relation.relation} names unknown metrics {unknown}")
        units = {catalogue[m].canonical_unit for m in relation.metrics}
        if len(units) != 1:
            raise ValueError(f"metric_relations.csv: {relation.relation} compares different units {units}")
        out.append(relation)
    return tuple(out)


@dataclass(frozen=True)
class HistoryCheck:
    """How far a metric's monthly value may move from the facility's own recent median."""

    metric: str
    change_factor: float
    min_history_months: int


@cache
def history_checks() -> dict[str, HistoryCheck]:
    """By metric: the topic's factor unless a row for the metric overrides it; a metric whose row has no
    factor (seasonal rainwater, small counts such as injuries) and the topics not listed (wastewater
    results) are not compared with their history."""
    catalogue = metrics()
    topics: dict[str, HistoryCheck | None] = {}
    overrides: dict[str, HistoryCheck | None] = {}
    for line, row in enumerate(read_rows("history_plausibility.csv"), start=2):
        where = f"history_plausibility.csv line {line}"
        if row["topic"] not in {m.topic for m in catalogue.values()}:
            raise ValueError(f"{where}: {row['topic']} is not a topic of metrics.csv")
        if row["metric"] and catalogue.get(row["metric"], None) is None:
            raise ValueError(f"{where}: {row['metric']} is not in metrics.csv")
        check = None
        if row["change_factor"]:
            factor = float(row["change_factor"])
            if factor <= 1:
                raise ValueError(f"{where}: change_factor must be above 1")
            check = HistoryCheck(row["metric"], factor, int(row["min_history_months"] or 1))
        (overrides if row["metric"] else topics)[row["metric"] or row["topic"]] = check
    out = {}
    for code, metric in sorted(catalogue.items()):
        check = overrides[code] if code in overrides else topics.get(metric.topic)
        if check is not None:
            out[code] = HistoryCheck(code, check.change_factor, check.min_history_months)
    return out


MINIMUM_WAGE_STATUSES = ("statutory", "no_statutory_minimum")


@dataclass(frozen=True)
class MinimumWage:
    """A legal minimum monthly wage where and while it applies, or the sourced fact that there is none."""

    country: str
    region: str  # as in the park registry; '' for the whole country
    area: str
    sector: str
    valid_from: date
    valid_to: date | None
    status: str
    monthly_minimum: float | None
    currency: str
    source: str


def _minimum_wage(row: dict[str, str], where: str) -> MinimumWage:
    status = row["status"]
    if status not in MINIMUM_WAGE_STATUSES:
        raise ValueError(f"{where}: status {status!r} is not one of {', '.join(MINIMUM_WAGE_STATUSES)}")
    amount = _optional_float(row["monthly_minimum"])
    if status == "statutory" and (amount is None or amount <= 0):
        raise ValueError(f"{where}: a statutory minimum needs a positive monthly_minimum")
    if status == "no_statutory_minimum" and amount is not None:
        raise ValueError(f"{where}: 'no_statutory_minimum' takes no monthly_minimum (found {amount:g})")
    if not row["source"].strip():
        raise ValueError(f"{where}: every entry needs its source")
    valid_from = date.fromisoformat(row["valid_from"])
    valid_to = date.fromisoformat(row["valid_to"]) if row["valid_to"].strip() else None
    if valid_to is not None and valid_to < valid_from:
        raise ValueError(f"{where}: valid_to {valid_to} is before valid_from {valid_from}")
    return MinimumWage(
        country=row["country"],
        region=row["region"],
        area=row["area"],
        sector=row["sector"],
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        monthly_minimum=amount,
        currency=row["currency"],
        source=row["source"],
    )


def check_minimum_wages(entries: tuple[MinimumWage, ...]) -> tuple[MinimumWage, ...]:
    """The entries, or a ValueError naming the first two that apply to the same place on the same day."""
    by_place: dict[tuple[str, str], list[MinimumWage]] = {}
    for entry in entries:
        by_place.setdefault((entry.country, entry.region), []).append(entry)
    for (country, region), place in by_place.items():
        ordered = sorted(place, key=lambda e: e.valid_from)
        for earlier, later in pairwise(ordered):
            if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
                raise ValueError(
                    f"minimum_wages.csv: {country} {region or '(whole country)'} has two entries on "
                    f"{later.valid_from}: from {earlier.valid_from} and from {later.valid_from}"
                )
    return entries


@cache
def minimum_wages() -> tuple[MinimumWage, ...]:
    """Every entry of minimum_wages.csv, checked (line numbers in errors count the header as line 1)."""
    rows = read_rows("minimum_wages.csv")
    entries = tuple(_minimum_wage(row, f"minimum_wages.csv line {n}") for n, row in enumerate(rows, start=2))
    return check_minimum_wages(entries)
