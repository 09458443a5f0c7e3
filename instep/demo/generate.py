"""`generate_demo`: a synthetic registry and inbox, deterministic at any scale, with planted faults.

The output is streamed facility by facility: memory stays small at 20,000 facilities. Each factory draws
from its own random streams, so its registry row and its submissions do not depend on how many other
factories the demo has (only very large demos group several factories per file, see `batch_size`).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from instep import reference
from instep.demo.faults import (
    FILE_FAULTS,
    ROW_FAULTS,
    FaultContext,
    GuaranteedFault,
    SubmissionFile,
    guaranteed_faults,
    plant_random_faults,
    plant_row_fault,
)
from instep.demo.files import FAKE_PDF, Row, write_csv, write_submission, write_xlsx
from instep.demo.population import (
    AGGREGATE_ONLY,
    FILES_STREAM,
    GUARANTEED_MISSING_MONTH,
    GUARANTEED_RESTATEMENT,
    GUARANTEED_STREAM,
    Calendar,
    Factory,
    Population,
    SharedFacility,
    build_population,
    month_end,
    stream,
)
from instep.demo.scenario import PARKS, SYNTHETIC_NOTICE
from instep.demo.simulate import FacilityMonths, simulate_factory, simulate_shared, unit_factor
from instep.registry import FACILITY_COLUMNS, PARK_COLUMNS

MANIFEST_NAME = "demo-manifest.json"
# Above this many facility-quarter files, factories of a park submit in batches (one file, several
# factories) so that 20,000 facilities x 36 months stays under ~100,000 files.
MAX_SINGLE_FILES = 90_000
MISSING_MONTH_RATE = 0.012
MISSING_QUARTER_RATE = 0.008
RESTATEMENT_RATE = 0.12
SUBMITTED_BY = "Submitted by"
# Metrics a factory plausibly corrects after the fact (meter readings, invoices, production records).
RESTATABLE = ("energy.", "water.", "wastewater.discharged.", "production.", "waste.", "chemicals.consumption")
SHARED_FORMATS = {"cetp": "csv_bom", "central_boiler": "csv_semicolon", "solar_plant": "csv"}


@dataclass(frozen=True)
class PlantedFault:
    kind: str
    rule: str
    file: str
    row_number: int | None  # 1 = first data row; None for a fault of the whole file


@dataclass(frozen=True)
class Restatement:
    file: str
    row_number: int
    facility_id: str
    period: str
    metric: str
    original_file: str
    original_row_number: int


@dataclass
class DemoManifest:
    """What was generated and which faults were planted where (the pipeline never reads it)."""

    seed: int
    facilities: int
    months: int
    first_period: str
    last_period: str
    files: int = 0
    rows: int = 0
    planted_faults: list[PlantedFault] = field(default_factory=list)
    restatements: list[Restatement] = field(default_factory=list)
    missing_months: list[dict[str, str]] = field(default_factory=list)
    submitter_names: list[str] = field(default_factory=list)
    aggregate_only_mentions: list[dict[str, object]] = field(default_factory=list)
    formula_like_names: list[str] = field(default_factory=list)
    shared_facilities: list[str] = field(default_factory=list)
    batch_size: int = 1
    synthetic: bool = True

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        ordered = {"synthetic": data.pop("synthetic")}
        ordered.update(data)
        return ordered

    @classmethod
    def read(cls, path: Path) -> DemoManifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["planted_faults"] = [PlantedFault(**f) for f in data["planted_faults"]]
        data["restatements"] = [Restatement(**r) for r in data["restatements"]]
        return cls(**data)


def batch_size(facilities: int, calendar: Calendar) -> int:
    files = facilities * len(calendar.quarters())
    return 1 if files <= MAX_SINGLE_FILES else math.ceil(files / MAX_SINGLE_FILES)


def _prepare(out_dir: Path, overwrite: bool) -> tuple[Path, Path]:
    """Create the folders; refuse to mix a new demo with existing files unless told to replace them."""
    registry_dir, inbox = out_dir / "registry", out_dir / "inbox"
    existing = [p for p in (registry_dir / "parks.csv", registry_dir / "facilities.csv") if p.exists()]
    if inbox.exists() and any(inbox.iterdir()):
        existing.append(inbox)
    if existing and not overwrite:
        raise FileExistsError(
            "refusing to overwrite "
            + ", ".join(str(p) for p in existing)
            + "; generate into an empty folder or pass overwrite=True (--overwrite) to replace the "
            "inbox, the registry and the manifest"
        )
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    registry_dir.mkdir(parents=True, exist_ok=True)
    return registry_dir, inbox


def write_registry(registry_dir: Path, population: Population) -> None:
    with (registry_dir / "parks.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(PARK_COLUMNS)
        for park in PARKS:
            writer.writerow(
                [
                    park.park_id,
                    park.name,
                    park.country,
                    park.region,
                    f"{park.lat:.4f}",
                    f"{park.lon:.4f}",
                    park.operator,
                    f"{park.area_ha:g}",
                    park.established,
                ]
            )
    with (registry_dir / "facilities.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FACILITY_COLUMNS)
        for park in PARKS:
            for shared in (s for s in population.shared if s.park.park_id == park.park_id):
                writer.writerow(
                    [
                        shared.facility_id,
                        park.park_id,
                        shared.spec.name,
                        shared.type,
                        "",
                        "",
                        "public",
                        park.established,
                        "",
                    ]
                )
            for f in population.by_park(park.park_id):
                writer.writerow(
                    [
                        f.facility_id,
                        f.park_id,
                        f.name,
                        "factory",
                        f.sector,
                        f.os_id,
                        f.disclosure,
                        f.active_from.isoformat(),
                        f.active_to.isoformat() if f.active_to else "",
                    ]
                )


class InboxWriter:
    """Writes submission files and records what the manifest must say about them."""

    def __init__(self, inbox: Path, manifest: DemoManifest, seed: int) -> None:
        self.inbox = inbox
        self.manifest = manifest
        self.seed = seed
        self.originals: dict[int, tuple[str, int]] = {}  # restated rows: id -> (file, row number)

    def about(self, stem: str) -> list[list[str]]:
        return [
            ["about", "SYNTHETIC DEMONSTRATION DATA"],
            ["notice", SYNTHETIC_NOTICE],
            ["file", stem],
            ["generator", f"instep demo-data, seed {self.seed}"],
            ["template", "columns as in templates/submission_template.xlsx; check with: instep check FILE"],
        ]

    def write(self, submission: SubmissionFile) -> str:
        name = write_submission(
            self.inbox, submission.stem, submission.format, submission.rows, self.about(submission.stem)
        )
        self.manifest.files += 1
        self.manifest.rows += len(submission.rows)
        if submission.faults or submission.marks:
            for number, row in enumerate(submission.rows, start=1):
                kind = submission.faults.get(id(row))
                if kind:
                    self.manifest.planted_faults.append(PlantedFault(kind, ROW_FAULTS[kind], name, number))
                for mark in submission.marks.get(id(row), []):
                    self._resolve_mark(mark, name, number, row)
        return name

    def _resolve_mark(self, mark: dict[str, str], name: str, number: int, row: Row) -> None:
        if mark["mark"] == "restated_original":
            self.originals[int(mark["key"])] = (name, number)
        elif mark["mark"] == "restatement":
            original_file, original_number = self.originals[int(mark["key"])]
            self.manifest.restatements.append(
                Restatement(name, number, row[0], row[1], row[2], original_file, original_number)
            )
        elif mark["mark"] == "aggregate_only_mention":
            self.manifest.aggregate_only_mentions.append(
                {"file": name, "row_number": number, "facility_id": mark["facility_id"]}
            )

    def write_file_fault(self, kind: str, stem: str, rows: list[Row]) -> None:
        sample = [list(r) for r in rows[:12]]
        if kind == "binary_file":
            name = f"{stem}_scan.pdf"
            (self.inbox / name).write_bytes(FAKE_PDF)
        elif kind == "empty_file":
            name = f"{stem}.csv"
            (self.inbox / name).write_bytes(b"")
        elif kind == "missing_columns":
            # The factory's own layout: "month" instead of "period", no sample columns.
            name = f"{stem}.csv"
            header = ["facility_id", "month", "metric", "value", "unit", "comment"]
            write_csv(
                self.inbox / name, [[r[0], r[1], r[2], r[3], r[4], r[7]] for r in sample], "csv", header
            )
        elif kind == "missing_submission_sheet":
            name = f"{stem}.xlsx"
            write_xlsx(self.inbox / name, sample, about=(), sheet_name="Sheet1")
        else:
            raise ValueError(f"unknown file fault {kind!r}")
        self.manifest.files += 1
        self.manifest.planted_faults.append(PlantedFault(kind, FILE_FAULTS[kind], name, None))


def _submission_day(quarter_months: list[int], calendar: Calendar, delay: int) -> date:
    return month_end(calendar.first_index + quarter_months[-1]) + timedelta(days=delay)


def _missing_months(factory: Factory, calendar: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Months a factory did not report (no rows at all): scattered months and now and then a quarter."""
    missing = rng.random(calendar.months) < MISSING_MONTH_RATE
    for _, months in calendar.quarters():
        if rng.random() < MISSING_QUARTER_RATE:
            missing[months] = True
    active = factory.active_months(calendar)
    if factory.global_index == GUARANTEED_MISSING_MONTH and active.any():
        active_positions = np.flatnonzero(active)
        missing[int(active_positions[active_positions.size // 2])] = True
    return missing & active


def _with_comment(row: Row, text: str) -> None:
    row[7] = f"{row[7]}; {text}" if row[7] else text


class DemoBuilder:
    def __init__(self, facilities: int, months: int, seed: int, inbox: Path) -> None:
        self.calendar = Calendar(months)
        self.seed = seed
        self.population = build_population(facilities, seed)
        periods = self.calendar.periods
        self.manifest = DemoManifest(
            seed=seed, facilities=facilities, months=months, first_period=periods[0], last_period=periods[-1]
        )
        self.manifest.batch_size = batch_size(facilities, self.calendar)
        self.manifest.shared_facilities = [s.facility_id for s in self.population.shared]
        self.writer = InboxWriter(inbox, self.manifest, seed)
        self.guaranteed = guaranteed_faults(self.population.factories, self.population.shared, self.calendar)
        registry_ids = {f.facility_id for f in self.population.factories}
        registry_ids.update(s.facility_id for s in self.population.shared)
        self.context = FaultContext(
            registry_ids=frozenset(registry_ids),
            closed_ids=frozenset(f.facility_id for f in self.population.factories if f.active_to),
        )
        self.steam = {park.park_id: np.zeros(months) for park in PARKS}
        self.to_cetp = {park.park_id: np.zeros(months) for park in PARKS}
        self.submitters: set[str] = set()
        self.restatement_keys = 0
        self.pending: list[GuaranteedFault] = []

    # -- factories ---------------------------------------------------------------------------------

    def run_factories(self) -> None:
        size = self.manifest.batch_size
        for park in PARKS:
            factories = self.population.by_park(park.park_id)
            for start in range(0, len(factories), size):
                self._factory_batch(factories[start : start + size])

    def _factory_batch(self, batch: list[Factory]) -> None:
        calendar = self.calendar
        simulated: list[tuple[Factory, FacilityMonths, np.random.Generator]] = []
        for factory in batch:
            rng = stream(self.seed, factory.facility_id, FILES_STREAM)
            missing = _missing_months(factory, calendar, rng)
            for t in np.flatnonzero(missing):
                self.manifest.missing_months.append(
                    {"facility_id": factory.facility_id, "period": calendar.periods[int(t)]}
                )
            reported = factory.active_months(calendar) & ~missing
            months = simulate_factory(factory, calendar, self.seed, reported)
            if months.steam_gj is not None:
                self.steam[factory.park_id] += months.steam_gj
            if months.to_cetp_m3 is not None:
                self.to_cetp[factory.park_id] += months.to_cetp_m3
            simulated.append((factory, months, rng))
        lead, _, lead_rng = simulated[0]
        files: list[tuple[SubmissionFile, date]] = []
        for position, (label, quarter_months) in enumerate(calendar.quarters()):
            rows = [row for _, months, _ in simulated for t in quarter_months for row in months.rows[t]]
            delay = lead.submission_delay + int(lead_rng.integers(0, 12))
            if lead_rng.random() < 0.04:
                delay += int(lead_rng.integers(40, 120))  # a late submission
            if not rows:
                continue
            style = "xlsx" if lead.xlsx and position < 12 else lead.file_format
            if lead.xlsx and position >= 12:
                style = "csv"
            ids = lead.facility_id if len(batch) == 1 else f"{lead.facility_id}-{batch[-1].facility_id[-5:]}"
            day = _submission_day(quarter_months, calendar, delay)
            submission = SubmissionFile(f"{day.isoformat()}_{ids}_{label}", style, rows)
            if lead.submitter:
                _with_comment(rows[0], f"{SUBMITTED_BY} {lead.submitter}")
                self.submitters.add(lead.submitter)
            files.append((submission, day))
        for factory, _, _ in simulated:
            self._plant_guaranteed(factory.facility_id, files)
        for submission, _ in files:
            plant_random_faults(submission, lead_rng, self.context)
        restatements = self._restatements(batch, files, lead_rng)
        for submission, _ in files:
            self.writer.write(submission)
        for submission in restatements:
            self.writer.write(submission)

    def _plant_guaranteed(self, facility_id: str, files: list[tuple[SubmissionFile, date]]) -> None:
        """The faults every demo shows, on the facility chosen for each (see `guaranteed_faults`).

        Faults left over by earlier facilities (none of their rows fitted) are tried here too.
        """
        rng = stream(self.seed, facility_id, GUARANTEED_STREAM)
        left_over: list[GuaranteedFault] = []
        for fault in self.pending + self.guaranteed.get(facility_id, []):
            if not files or not self._plant_one(fault, files, rng):
                left_over.append(fault)
        self.pending = left_over

    def _plant_one(
        self, fault: GuaranteedFault, files: list[tuple[SubmissionFile, date]], rng: np.random.Generator
    ) -> bool:
        for k in range(len(files)):
            submission, day = files[(fault.quarter + k) % len(files)]
            if fault.kind in FILE_FAULTS:
                offset = list(FILE_FAULTS).index(fault.kind) + 1
                bad_day = day - timedelta(days=offset)
                stem = submission.stem.replace(day.isoformat(), bad_day.isoformat(), 1)
                self.writer.write_file_fault(fault.kind, stem, submission.rows)
                return True
            if fault.kind == "decimal_comma" and submission.format != "csv_semicolon":
                # Only a semicolon file can carry a decimal comma unnoticed by the CSV reader.
                submission.format = "csv_semicolon"
            if plant_row_fault(fault.kind, submission, rng, self.context):
                return True
        return False

    def _restatements(
        self, batch: list[Factory], files: list[tuple[SubmissionFile, date]], rng: np.random.Generator
    ) -> list[SubmissionFile]:
        """Later files correcting a few values of an earlier quarter (valid rows that supersede)."""
        out = []
        for factory in batch:
            guaranteed = factory.global_index == GUARANTEED_RESTATEMENT
            if not (guaranteed or rng.random() < RESTATEMENT_RATE) or len(files) < 2:
                continue
            submission, day = files[int(rng.integers(0, len(files) - 1))]
            candidates = [
                row
                for row in submission.rows
                if row[0] == factory.facility_id
                and row[2].startswith(RESTATABLE)
                and id(row) not in submission.faults
                and id(row) not in submission.marks
            ]
            if not candidates:
                continue
            picks = rng.permutation(len(candidates))[: int(rng.integers(1, 5))]
            restated_rows: list[Row] = []
            marks: dict[int, list[dict[str, str]]] = {}
            for pick in sorted(picks.tolist()):
                original = candidates[pick]
                corrected = _corrected(original, rng)
                if corrected is None:
                    continue
                self.restatement_keys += 1
                key = str(self.restatement_keys)
                submission.marks.setdefault(id(original), []).append(
                    {"mark": "restated_original", "key": key}
                )
                restated = [
                    *original[:3],
                    corrected,
                    *original[4:7],
                    "restated: corrected after a meter check",
                ]
                restated_rows.append(restated)
                marks[id(restated)] = [{"mark": "restatement", "key": key}]
            if restated_rows:
                later = day + timedelta(days=int(rng.integers(45, 200)))
                label = submission.stem.rsplit("_", 1)[-1]
                stem = f"{later.isoformat()}_{factory.facility_id}_{label}_restated"
                out.append(SubmissionFile(stem, "csv", restated_rows, marks=marks))
        return out

    # -- shared facilities -------------------------------------------------------------------------

    def run_shared(self) -> None:
        aggregate_only = [f for f in self.population.factories if f.disclosure == "aggregate_only"]
        mentioned = next((f for f in aggregate_only if f.global_index == AGGREGATE_ONLY), None)
        mentioned = mentioned or next(iter(aggregate_only), None)
        for facility in self.population.shared:
            self._shared(facility, mentioned)

    def _shared(self, facility: SharedFacility, mentioned: Factory | None) -> None:
        calendar = self.calendar
        rng = stream(self.seed, facility.facility_id, FILES_STREAM)
        reported = np.ones(calendar.months, dtype=bool)
        park = facility.park.park_id
        months = simulate_shared(
            facility, calendar, self.seed, reported, self.steam[park], self.to_cetp[park]
        )
        files: list[tuple[SubmissionFile, date]] = []
        for label, quarter_months in calendar.quarters():
            rows = [row for t in quarter_months for row in months.rows[t]]
            day = _submission_day(quarter_months, calendar, 20 + int(rng.integers(0, 15)))
            stem = f"{day.isoformat()}_{facility.facility_id}_{label}"
            files.append((SubmissionFile(stem, SHARED_FORMATS[facility.type], rows), day))
        if mentioned is not None and facility.type == "cetp" and facility.park.park_id == mentioned.park_id:
            first = files[0][0]
            row = next((r for r in first.rows if r[2] == "wastewater.discharged.direct"), first.rows[0])
            name = mentioned.name.removesuffix(" (synthetic)")
            _with_comment(row, f"inflow peak after start-up of the {name} dye house")
            first.marks.setdefault(id(row), []).append(
                {"mark": "aggregate_only_mention", "facility_id": mentioned.facility_id}
            )
        self._plant_guaranteed(facility.facility_id, files)
        for submission, _ in files:
            plant_random_faults(submission, rng, self.context)
            self.writer.write(submission)

    def finish(self) -> DemoManifest:
        manifest = self.manifest
        manifest.planted_faults.sort(key=lambda f: (f.file, f.row_number or 0, f.kind))
        manifest.restatements.sort(key=lambda r: (r.file, r.row_number))
        manifest.aggregate_only_mentions.sort(key=lambda m: (str(m["file"]), int(str(m["row_number"]))))
        manifest.submitter_names = sorted(self.submitters)
        manifest.formula_like_names = [
            f.name for f in self.population.factories if f.name[:1] in ("=", "+", "-", "@")
        ]
        return manifest


def _corrected(row: Row, rng: np.random.Generator) -> str | None:
    """A restated value: the original corrected by a few percent, with the same decimals."""
    text = row[3]
    try:
        value = float(text)
    except ValueError:
        return None
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    factor = float(rng.uniform(1.03, 1.2)) if rng.random() < 0.5 else float(rng.uniform(0.8, 0.97))
    corrected = f"{value * factor:.{decimals}f}"
    if corrected == text:
        return None
    ceiling = reference.metrics()[row[2]].plausible_max_per_month
    if ceiling is not None and float(corrected) * unit_factor(row[2], row[4]) > ceiling:
        return None
    return corrected


def generate_demo(
    out_dir: Path, facilities: int = 78, months: int = 36, seed: int = 42, *, overwrite: bool = False
) -> DemoManifest:
    """Write `out_dir/registry/`, `out_dir/inbox/` and `out_dir/demo-manifest.json`; return the manifest.

    The same arguments always give byte-identical files. `facilities` counts factories; the parks'
    shared facilities (CETPs, central boiler, solar plant) come on top.
    """
    if facilities < 1:
        raise ValueError(f"facilities must be at least 1, got {facilities}")
    if not 1 <= months <= 600:
        raise ValueError(f"months must be between 1 and 600, got {months}")
    if seed < 0:
        raise ValueError(f"seed must be zero or positive, got {seed}")
    out_dir = Path(out_dir)
    registry_dir, inbox = _prepare(out_dir, overwrite)
    builder = DemoBuilder(facilities, months, seed, inbox)
    write_registry(registry_dir, builder.population)
    builder.run_factories()
    builder.run_shared()
    manifest = builder.finish()
    (out_dir / MANIFEST_NAME).write_text(
        json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest
