"""The synthetic registry: parks, factories with their habits, and the parks' shared facilities.

Factories are dealt to parks one at a time by a divisor method (Sainte-Laguë), so the first N factories
of a larger demo are exactly the factories of a smaller one, with the same ids and the same profile:
each factory draws everything from its own random stream, seeded by the demo seed and its id.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from instep.demo.scenario import (
    COUNTRIES,
    LAST_PERIOD,
    NAME_WORDS,
    PARKS,
    SECTORS,
    ParkSpec,
    SharedFacilitySpec,
)

# Stream numbers: one independent random stream per purpose and facility.
PROFILE_STREAM = 0
SERIES_STREAM = 1
FILES_STREAM = 2
GUARANTEED_STREAM = 3

# Roles given to factories by their place in the dealing order, so that every demo with at least ~20
# factories shows them whatever the seed (see the dealing order in `deal_parks`).
WET_PROCESSING_DIRECT = 15  # VN-PHL-F002: direct discharge with its own lab results
AGGREGATE_ONLY = 5  # ET-HAW-F002
CLOSED = 7  # KE-ATH-F003
LATE_STARTERS = (9, 13)  # ET-HAW-F003, VN-NTR-F004
FORMULA_LIKE_NAME = 11  # KE-ATH-F005: a name a spreadsheet would take for a formula
FORMULA_LIKE_TEXT = "+Plus Apparel (synthetic)"
XLSX_SUBMITTERS = (4, 10)  # VN-PHL-F001, VN-NTR-F003
GUARANTEED_RESTATEMENT = 3  # KE-ATH-F002
GUARANTEED_MISSING_MONTH = 2  # VN-NTR-F001
GUARANTEED_FATALITY = 8  # KE-ATH-F004
NEVER_SPECIAL = 1  # ET-HAW-F001, the facility of the filled example in templates/

CSV_FORMATS = (("csv", 0.55), ("csv_bom", 0.18), ("csv_semicolon", 0.15), ("json", 0.12))


def stream(seed: int, facility_id: str, purpose: int) -> np.random.Generator:
    """The random stream of one facility for one purpose: independent of every other facility."""
    return np.random.default_rng([seed, zlib.crc32(facility_id.encode("ascii")), purpose])


def month_index(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def period_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def month_end(index: int) -> date:
    return month_start(index + 1) - timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    """The demo months: `months` months ending at LAST_PERIOD."""

    months: int

    @property
    def last_index(self) -> int:
        return month_index(LAST_PERIOD)

    @property
    def first_index(self) -> int:
        return self.last_index - self.months + 1

    @property
    def periods(self) -> list[str]:
        return [period_of(self.first_index + t) for t in range(self.months)]

    def calendar_months(self) -> np.ndarray:
        return (np.arange(self.months) + self.first_index) % 12 + 1

    def years_elapsed(self) -> np.ndarray:
        return np.arange(self.months) / 12.0

    def quarters(self) -> list[tuple[str, list[int]]]:
        """Calendar quarters as (label like 2024Q1, month positions t), in order."""
        out: dict[str, list[int]] = {}
        for t in range(self.months):
            index = self.first_index + t
            out.setdefault(f"{index // 12}Q{(index % 12) // 3 + 1}", []).append(t)
        return list(out.items())


@dataclass(frozen=True)
class Factory:
    """A factory of the registry and the habits that shape its submissions."""

    facility_id: str
    park: ParkSpec
    global_index: int
    sector: str
    name: str
    disclosure: str
    os_id: str
    active_from: date
    active_to: date | None
    workers: float
    improving: bool
    growth: float  # yearly change of output
    improvement_rate: float  # yearly fall of energy and water intensity
    season_amplitude: float
    season_peak: int
    intensity: float  # this factory's energy use against its sector's typical
    boiler_fuel: str | None  # None: no own boiler (steam bought or no heat needed)
    has_generator: bool
    solar_kwp: float
    solar_start: int  # month index (absolute) the rooftop plant starts; large: never
    contract_share: float  # share of grid electricity under a renewable contract
    groundwater_share: float
    rainwater: bool
    recycling_share: float  # at the first month; improving factories raise it
    zdhc_share: float
    ltifr: float
    units: dict[str, str]
    file_format: str
    submitter: str | None
    submission_delay: int  # days after the quarter's end
    lab_quality: float  # multiplier on typical effluent concentrations
    xlsx: bool

    @property
    def park_id(self) -> str:
        return self.park.park_id

    @property
    def country(self) -> str:
        return self.park.country

    @property
    def discharge(self) -> str:
        return self.park.discharge

    @property
    def buys_steam(self) -> bool:
        return self.park.has_central_boiler

    @property
    def has_lab_results(self) -> bool:
        """Wet processing with direct discharge test their effluent every month."""
        return self.sector == "wet_processing" and self.discharge == "direct"

    def active_months(self, calendar: Calendar) -> np.ndarray:
        index = np.arange(calendar.months) + calendar.first_index
        first = self.active_from.year * 12 + self.active_from.month - 1
        last = self.active_to.year * 12 + self.active_to.month - 1 if self.active_to else 10**9
        return (index >= first) & (index <= last)


@dataclass(frozen=True)
class SharedFacility:
    facility_id: str
    park: ParkSpec
    spec: SharedFacilitySpec

    @property
    def type(self) -> str:
        return self.spec.type


@dataclass(frozen=True)
class Population:
    factories: list[Factory]
    shared: list[SharedFacility]

    def by_park(self, park_id: str) -> list[Factory]:
        return [f for f in self.factories if f.park_id == park_id]


def deal_parks(count: int) -> list[ParkSpec]:
    """The park of each of `count` factories, in dealing order (a prefix of any longer dealing)."""
    seats = [0] * len(PARKS)
    order = []
    for _ in range(count):
        best = max(range(len(PARKS)), key=lambda k: (PARKS[k].weight / (2 * seats[k] + 1), -k))
        seats[best] += 1
        order.append(PARKS[best])
    return order


def _choice(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...]) -> str:
    names = [name for name, _ in weighted]
    weights = np.array([w for _, w in weighted], dtype=float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _units(rng: np.random.Generator) -> dict[str, str]:
    """The units a factory's staff habitually use, per family of metrics."""
    return {
        "electricity": _choice(rng, (("kWh", 0.75), ("MWh", 0.2), ("GJ", 0.05))),
        "steam": _choice(rng, (("GJ", 0.85), ("MJ", 0.15))),
        "diesel": _choice(rng, (("L", 0.8), ("m3", 0.1), ("kg", 0.05), ("t", 0.05))),
        "hfo": _choice(rng, (("kg", 0.4), ("t", 0.4), ("L", 0.2))),
        "lpg": _choice(rng, (("kg", 0.8), ("t", 0.2))),
        "natural_gas": _choice(rng, (("GJ", 0.6), ("MJ", 0.2), ("kg", 0.1), ("t", 0.1))),
        "solid_fuel": _choice(rng, (("t", 0.7), ("kg", 0.3))),
        "water": _choice(rng, (("m3", 0.8), ("L", 0.1), ("ML", 0.1))),
        "mass": _choice(rng, (("kg", 0.7), ("t", 0.3))),
        "lab": _choice(rng, (("mg/L", 0.85), ("g/m3", 0.15))),
        "metals": _choice(rng, (("mg/L", 0.8), ("ug/L", 0.2))),
    }


def _os_id(rng: np.random.Generator, country: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    tail = "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), 6))
    return f"{country}{int(rng.integers(2019, 2024))}{int(rng.integers(1, 366)):03d}{tail}"


def _factory(seed: int, global_index: int, park: ParkSpec, ordinal: int, taken: set[str]) -> Factory:
    facility_id = f"{park.park_id}-F{ordinal:03d}"
    rng = stream(seed, facility_id, PROFILE_STREAM)
    country = COUNTRIES[park.country]
    last = month_index(LAST_PERIOD)

    sector = _choice(rng, park.sector_mix)
    if global_index == WET_PROCESSING_DIRECT:
        sector = "wet_processing"
    spec = SECTORS[sector]
    word = NAME_WORDS[int(rng.integers(0, len(NAME_WORDS)))]
    kind = spec.kind_words[int(rng.integers(0, len(spec.kind_words)))]
    name = f"{word} {kind}"
    suffix = 2
    while name in taken:
        name, suffix = f"{word} {kind} {suffix}", suffix + 1
    taken.add(name)
    name = f"{name} (synthetic)" if global_index != FORMULA_LIKE_NAME else FORMULA_LIKE_TEXT

    aggregate_only = rng.random() < 0.15
    if global_index == AGGREGATE_ONLY:
        aggregate_only = True
    if global_index in (NEVER_SPECIAL, FORMULA_LIKE_NAME, WET_PROCESSING_DIRECT):
        aggregate_only = False
    os_id = _os_id(rng, park.country) if rng.random() < 0.4 else ""

    established = date.fromisoformat(park.established)
    opened = established + timedelta(days=int(rng.integers(30, (date(2022, 12, 1) - established).days)))
    active_from, active_to = opened, None
    starts_late = rng.random() < 0.03
    if global_index in LATE_STARTERS or (starts_late and global_index != NEVER_SPECIAL):
        active_from = month_start(last - int(rng.integers(6, 31))) + timedelta(days=int(rng.integers(0, 20)))
    if global_index == CLOSED:
        active_to = month_end(last - int(rng.integers(4, 15)))

    improving = rng.random() < 0.35
    heat_needed = spec.heat_gj_per_kg > 0.0015
    boiler_fuel = _choice(rng, country.boiler_fuels) if heat_needed and not park.has_central_boiler else None
    has_solar = rng.random() < (country.rooftop_solar_share + (0.2 if improving else 0.0))
    return Factory(
        facility_id=facility_id,
        park=park,
        global_index=global_index,
        sector=sector,
        name=name,
        disclosure="aggregate_only" if aggregate_only else "public",
        os_id=os_id,
        active_from=active_from,
        active_to=active_to,
        workers=float(min(8000.0, spec.median_workers * np.exp(rng.normal(0.0, 0.45)))),
        improving=improving,
        growth=float(rng.uniform(-0.03, 0.08)),
        improvement_rate=float(rng.uniform(0.03, 0.09)) if improving else float(rng.uniform(-0.01, 0.015)),
        season_amplitude=float(rng.uniform(0.04, 0.14)),
        season_peak=int(rng.integers(7, 11)),
        intensity=float(np.exp(rng.normal(0.0, 0.25))),
        boiler_fuel=boiler_fuel,
        has_generator=bool(rng.random() < country.generator_share),
        solar_kwp=float(rng.uniform(0.15, 0.35)) if has_solar else 0.0,
        solar_start=last - int(rng.integers(0, 48)) if has_solar else 10**9,
        contract_share=float(rng.uniform(0.2, 1.0))
        if rng.random() < country.renewable_contract_share
        else 0.0,
        groundwater_share=float(rng.uniform(0.2, 0.6)) if rng.random() < country.groundwater_share else 0.0,
        rainwater=bool(improving and rng.random() < 0.4),
        recycling_share=float(rng.uniform(0.0, 0.25)) if sector == "wet_processing" else 0.0,
        zdhc_share=float(rng.uniform(0.35, 0.8)),
        ltifr=float(np.exp(rng.normal(np.log(3.5), 0.5))),
        units=_units(rng),
        file_format="xlsx" if global_index in XLSX_SUBMITTERS else _choice(rng, CSV_FORMATS),
        submitter=(
            country.submitters[int(rng.integers(0, len(country.submitters)))] if rng.random() < 0.3 else None
        ),
        submission_delay=int(rng.integers(8, 40)),
        lab_quality=float(np.exp(rng.normal(0.0, 0.45))),
        xlsx=global_index in XLSX_SUBMITTERS,
    )


def build_population(facilities: int, seed: int) -> Population:
    """`facilities` factories dealt over the four parks, plus each park's shared facilities."""
    taken: set[str] = set()
    ordinals = {park.park_id: 0 for park in PARKS}
    factories = []
    for global_index, park in enumerate(deal_parks(facilities)):
        ordinals[park.park_id] += 1
        factories.append(_factory(seed, global_index, park, ordinals[park.park_id], taken))
    shared = [
        SharedFacility(f"{park.park_id}-{spec.suffix}", park, spec) for park in PARKS for spec in park.shared
    ]
    return Population(factories=factories, shared=shared)
