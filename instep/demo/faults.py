"""The faults a programme really receives, planted into otherwise valid submissions.

Each planted row carries exactly one fault, so the rule the pipeline must report for it is unambiguous
(rule ids are those of `expectations/rules.csv`). A duplicated row marks both copies: neither can be
told to be the right one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from instep import reference
from instep.demo.files import Row
from instep.demo.population import GUARANTEED_MISSING_MONTH, Calendar, Factory, SharedFacility
from instep.demo.simulate import unit_factor

ROW_FAULTS: dict[str, str] = {
    "wrong_unit": "implausible_value",  # a kWh figure labelled MWh
    "decimal_comma": "decimal_comma",
    "text_in_number": "not_a_number",
    "unknown_facility": "unknown_facility",
    "duplicate_row": "duplicate_in_file",
    "negative_value": "negative_value",
    "huge_value": "implausible_value",
    "sample_point_missing": "sample_point_missing",
    "future_period": "future_period",
    "unknown_metric": "unknown_metric",
    "unit_not_accepted": "unit_not_accepted",
    "bad_period_format": "bad_period_format",
}
FILE_FAULTS: dict[str, str] = {
    "binary_file": "unreadable_format",
    "empty_file": "empty_file",
    "missing_columns": "missing_columns",
    "missing_submission_sheet": "missing_submission_sheet",
}
# Share of rows carrying a fault, on top of the faults every demo is guaranteed to show.
FAULT_RATE = 0.0005
FUTURE_YEAR = "2062"
# Codes a factory might invent for a metric family; none is in the catalogue.
UNKNOWN_METRICS = {
    "energy": "energy.electricity.total",
    "water": "water.withdrawal.tanker",
    "wastewater": "wastewater.discharged.sewer",
    "production": "production.output_value",
    "chemicals": "chemicals.products.zdhc_level3",
    "waste": "waste.total",
    "workforce": "workforce.contractors",
    "wages": "wages.average_monthly",
    "ohs": "ohs.near_misses",
    "grievances": "grievances.pending",
    "training": "training.sessions",
}
WATER_VOLUME_UNITS = {"m3", "L"}
_DECIMAL = re.compile(r"\d+\.\d{1,2}")


def _is_lab(row: Row) -> bool:
    entry = reference.metrics().get(row[2])
    return entry is not None and entry.is_wastewater_sample


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _plausible_max(metric: str) -> float | None:
    entry = reference.metrics().get(metric)
    return entry.plausible_max_per_month if entry else None


@dataclass
class SubmissionFile:
    """A submission being assembled: rows as text, and marks on rows to find their numbers later."""

    stem: str  # file name without extension
    format: str  # csv, csv_bom, csv_semicolon, json, xlsx
    rows: list[Row]
    # Faulty rows (by object identity, stable when rows are inserted) and the kind of their fault.
    faults: dict[int, str] = field(default_factory=dict)
    # Other rows whose position the manifest needs (restated originals, names in comments).
    marks: dict[int, list[dict[str, str]]] = field(default_factory=dict)

    def keys(self) -> set[tuple[str, ...]]:
        return {(r[0], r[1], r[2], r[5], r[6]) for r in self.rows}


@dataclass(frozen=True)
class FaultContext:
    registry_ids: frozenset[str]
    closed_ids: frozenset[str]  # facilities with an end date: a future period would also be inactive


def _plant_on(
    submission: SubmissionFile,
    rng: np.random.Generator,
    kind: str,
    eligible: Callable[[Row], bool],
    change: Callable[[Row], Row | None],
    changes_key: bool = False,
) -> bool:
    """Apply `change` to one eligible untouched row (tried in a random order); False if none fits."""
    rows = submission.rows
    keys = submission.keys() if changes_key else set()
    for position in rng.permutation(len(rows))[:400].tolist():
        row = rows[position]
        if id(row) in submission.faults or id(row) in submission.marks or not eligible(row):
            continue
        changed = change(list(row))
        if changed is None:
            continue
        if changes_key and (changed[0], changed[1], changed[2], changed[5], changed[6]) in keys:
            continue
        row[:] = changed
        submission.faults[id(row)] = kind
        return True
    return False


def plant_row_fault(
    kind: str, submission: SubmissionFile, rng: np.random.Generator, ctx: FaultContext
) -> bool:
    """Plant one fault of `kind` in the submission; False when no row of it can carry that fault."""
    if kind == "duplicate_row":
        return _plant_duplicate(submission, rng)

    def plain(row: Row) -> bool:
        return not _is_lab(row)

    def positive(row: Row) -> bool:
        value = _number(row[3])
        return plain(row) and value is not None and value > 0

    if kind == "wrong_unit":
        limit = _plausible_max("energy.electricity.grid") or 0.0

        def big_kwh(row: Row) -> bool:
            value = _number(row[3])
            grid = row[2] == "energy.electricity.grid" and row[4] == "kWh"
            return grid and value is not None and value * 1000.0 > limit * 1.05

        return _plant_on(submission, rng, kind, big_kwh, lambda r: [*r[:4], "MWh", *r[5:]])
    if kind == "decimal_comma":
        if submission.format != "csv_semicolon":
            return False

        def decimal(row: Row) -> bool:
            return plain(row) and _DECIMAL.fullmatch(row[3]) is not None

        return _plant_on(submission, rng, kind, decimal, lambda r: [*r[:3], r[3].replace(".", ","), *r[4:]])
    if kind == "text_in_number":

        def as_text(row: Row) -> Row:
            value = _number(row[3]) or 0.0
            text = f"approx. {round(value, -1):.0f}" if value >= 100 and rng.random() < 0.5 else "n/a"
            return [*row[:3], text, *row[4:]]

        return _plant_on(submission, rng, kind, plain, as_text)
    if kind == "unknown_facility":

        def typo(row: Row) -> Row | None:
            variants = (row[0].replace("-", "", 1), row[0].replace("-F", "-F0", 1))
            wrong = variants[int(rng.integers(0, 2))]
            return None if wrong in ctx.registry_ids or wrong == row[0] else [wrong, *row[1:]]

        return _plant_on(submission, rng, kind, plain, typo, changes_key=True)
    if kind == "negative_value":
        return _plant_on(submission, rng, kind, positive, lambda r: [*r[:3], "-" + r[3], *r[4:]])
    if kind == "huge_value":

        def huge(row: Row) -> Row | None:
            ceiling = _plausible_max(row[2])
            if ceiling is None:
                return None
            factor = unit_factor(row[2], row[4])
            value = ceiling * float(rng.uniform(3.0, 40.0)) / factor
            return [*row[:3], f"{value:.0f}", *row[4:]]

        return _plant_on(submission, rng, kind, positive, huge)
    if kind == "sample_point_missing":
        return _plant_on(submission, rng, kind, _is_lab, lambda r: [*r[:5], "", *r[6:]], changes_key=True)
    if kind == "future_period":

        def future(row: Row) -> Row | None:
            if row[0] in ctx.closed_ids:
                return None
            return [row[0], f"{FUTURE_YEAR}-{row[1][5:7]}", *row[2:]]

        return _plant_on(submission, rng, kind, plain, future, changes_key=True)
    if kind == "unknown_metric":
        return _plant_on(
            submission,
            rng,
            kind,
            plain,
            lambda r: [*r[:2], UNKNOWN_METRICS[r[2].split(".")[0]], *r[3:]],
            changes_key=True,
        )
    if kind == "unit_not_accepted":

        def litres(row: Row) -> Row | None:
            value = _number(row[3])
            if value is None or not row[2].startswith(("water.", "wastewater.discharged.")):
                return None
            if row[4] not in WATER_VOLUME_UNITS:
                return None
            in_litres = value * (1000.0 if row[4] == "m3" else 1.0)
            return [*row[:3], f"{in_litres:.0f}", "litres", *row[5:]]

        return _plant_on(submission, rng, kind, plain, litres)
    if kind == "bad_period_format":
        return _plant_on(
            submission,
            rng,
            kind,
            plain,
            lambda r: [r[0], f"{r[1][5:7]}/{r[1][:4]}", *r[2:]],
            changes_key=True,
        )
    raise ValueError(f"unknown fault kind {kind!r}")


def _plant_duplicate(submission: SubmissionFile, rng: np.random.Generator) -> bool:
    rows = submission.rows
    for position in rng.permutation(len(rows))[:400].tolist():
        row = rows[position]
        if id(row) in submission.faults or id(row) in submission.marks or _is_lab(row):
            continue
        copy = list(row)
        rows.insert(position + 1, copy)
        submission.faults[id(row)] = "duplicate_row"
        submission.faults[id(copy)] = "duplicate_row"
        return True
    return False


def plant_random_faults(submission: SubmissionFile, rng: np.random.Generator, ctx: FaultContext) -> None:
    """A few faults at FAULT_RATE, of kinds drawn at random (a kind that does not fit is skipped)."""
    kinds = sorted(ROW_FAULTS)
    for _ in range(int(rng.binomial(len(submission.rows), FAULT_RATE))):
        plant_row_fault(kinds[int(rng.integers(0, len(kinds)))], submission, rng, ctx)


@dataclass(frozen=True)
class GuaranteedFault:
    kind: str
    quarter: int  # preferred quarter position; the next quarters are tried when it does not fit


def _estimated_grid_kwh(factory: Factory) -> float:
    from instep.demo.scenario import SECTORS

    spec = SECTORS[factory.sector]
    return factory.workers * spec.kg_per_worker * spec.kwh_per_kg * factory.intensity * 0.6


def guaranteed_faults(
    factories: list[Factory], shared: list[SharedFacility], calendar: Calendar
) -> dict[str, list[GuaranteedFault]]:
    """One fault of every kind, on the first ~20 factories (so on the same ones whatever the size).

    A fault that finds no row to sit on (a facility that missed those months) moves on to the next
    facility written; see `DemoBuilder._plant_guaranteed`.
    """
    first = factories[:20]
    quarters = max(1, len(calendar.quarters()))
    eligible: dict[str, Callable[[Factory], bool]] = {
        "wrong_unit": lambda f: f.units["electricity"] == "kWh" and _estimated_grid_kwh(f) > 120_000,
        "future_period": lambda f: f.active_to is None,
        "unit_not_accepted": lambda f: f.units["water"] in WATER_VOLUME_UNITS,
        # Water in m3 is always written with a decimal, which a decimal comma can replace.
        "decimal_comma": lambda f: f.units["water"] == "m3",
        "missing_submission_sheet": lambda f: not f.xlsx,
        "sample_point_missing": lambda f: f.has_lab_results,
    }
    # Factories sure to submit: active in the demo months, not the one chosen to miss a month.
    submitting = [
        f for f in first if f.active_months(calendar).any() and f.global_index != GUARANTEED_MISSING_MONTH
    ]
    out: dict[str, list[GuaranteedFault]] = {}
    kinds = [k for k in ROW_FAULTS if k != "sample_point_missing"] + list(FILE_FAULTS)
    for position, kind in enumerate(kinds):
        candidates = [f for f in submitting if eligible.get(kind, lambda f: True)(f)]
        if not candidates:
            continue
        target = candidates[(position * 7) % len(candidates)]
        out.setdefault(target.facility_id, []).append(GuaranteedFault(kind, (position * 5) % quarters))
    cetps = [s for s in shared if s.type == "cetp"]
    if cetps:
        out.setdefault(cetps[0].facility_id, []).append(
            GuaranteedFault("sample_point_missing", quarters // 2)
        )
    return out
