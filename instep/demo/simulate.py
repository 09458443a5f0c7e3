"""Monthly values of one synthetic facility, as the text a factory would type in its submission.

A factory's months come from its profile (size, sector, habits) and its own random stream: seasonality,
growth, an improvement trend for some, noise. Values are computed in canonical units, then written in the
units the factory habitually uses (from the metric's accepted units) with sensible decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from instep import reference, units
from instep.demo.files import Row
from instep.demo.population import (
    GUARANTEED_FATALITY,
    SERIES_STREAM,
    Calendar,
    Factory,
    SharedFacility,
    month_index,
    stream,
)
from instep.demo.scenario import COUNTRIES, LAST_PERIOD, SECTORS

INTEGER_UNITS = {"count", "persons", "pcs", "h", "days", "local currency"}
BOILER_EFFICIENCY = 0.8
# Below this many m3 a month a CETP would not run; a tiny demo still gets a working plant.
CETP_MINIMUM_INFLOW_M3 = 6000.0
# Shared plants of a very large synthetic park stay under the catalogue's plausible monthly maximum.
SHARED_CAP_SHARE = 0.9

# Typical effluent after treatment, in the canonical unit, for a facility of average performance:
# (metric, typical value, detection limit or 0 when always quantified, decimals in the canonical unit).
EFFLUENT: tuple[tuple[str, float, float, int], ...] = (
    ("wastewater.temperature_delta", 6.0, 0.0, 1),
    ("wastewater.tss", 28.0, 0.0, 1),
    ("wastewater.cod", 110.0, 0.0, 0),
    ("wastewater.bod5", 20.0, 0.0, 1),
    ("wastewater.ph", 7.4, 0.0, 1),
    ("wastewater.colour_436", 5.2, 0.0, 1),
    ("wastewater.colour_525", 3.0, 0.0, 1),
    ("wastewater.colour_620", 1.8, 0.0, 1),
    ("wastewater.ammonium_n", 3.5, 0.1, 2),
    ("wastewater.total_n", 13.0, 0.0, 1),
    ("wastewater.total_p", 1.2, 0.05, 2),
    ("wastewater.oil_grease", 4.0, 0.5, 1),
    ("wastewater.phenol", 0.05, 0.01, 3),
    ("wastewater.coliform", 220.0, 0.0, 0),
    ("wastewater.antimony", 0.04, 0.005, 3),
    ("wastewater.arsenic", 0.004, 0.005, 3),
    ("wastewater.cadmium", 0.006, 0.01, 3),
    ("wastewater.chromium_total", 0.04, 0.01, 3),
    ("wastewater.chromium_vi", 0.006, 0.01, 3),
    ("wastewater.cobalt", 0.01, 0.01, 3),
    ("wastewater.copper", 0.15, 0.01, 3),
    ("wastewater.lead", 0.008, 0.01, 3),
    ("wastewater.mercury", 0.0006, 0.001, 4),
    ("wastewater.nickel", 0.05, 0.01, 3),
    ("wastewater.zinc", 0.3, 0.02, 3),
)
# How much dirtier the untreated inflow of a CETP is than its effluent, per parameter.
RAW_FACTOR = {
    "wastewater.temperature_delta": 2.0,
    "wastewater.ph": 1.2,
    "wastewater.coliform": 30.0,
}
CONVENTIONAL = {
    "wastewater.tss",
    "wastewater.cod",
    "wastewater.bod5",
    "wastewater.ammonium_n",
    "wastewater.total_n",
    "wastewater.total_p",
    "wastewater.oil_grease",
}


@dataclass
class FacilityMonths:
    """What one facility reports, month by month: rows per month position t, and park totals."""

    facility_id: str
    rows: list[list[Row]]
    steam_gj: np.ndarray | None = None
    to_cetp_m3: np.ndarray | None = None
    comments: dict[tuple[int, str], str] = field(default_factory=dict)


# Families of metrics that a facility writes in the same habitual unit.
UNIT_FAMILIES = {
    "energy.electricity.grid": "electricity",
    "energy.electricity.solar_onsite": "electricity",
    "energy.electricity.renewable_contract": "electricity",
    "energy.steam.purchased": "steam",
    "energy.fuel.diesel": "diesel",
    "energy.fuel.hfo": "hfo",
    "energy.fuel.lpg": "lpg",
    "energy.fuel.natural_gas": "natural_gas",
    "energy.fuel.coal": "solid_fuel",
    "energy.fuel.biomass_wood": "solid_fuel",
    "energy.fuel.biomass_briquettes": "solid_fuel",
    "production.output_mass": "mass",
    "chemicals.consumption": "mass",
}


@cache
def unit_factor(metric: str, unit: str) -> float:
    """Canonical value = value in `unit` x this factor (cached: it is asked for millions of times)."""
    return units.factor_for(metric, unit).factor


def _family(metric: str) -> str | None:
    if metric in UNIT_FAMILIES:
        return UNIT_FAMILIES[metric]
    if metric.startswith(("water.", "wastewater.discharged.")):
        return "water"
    if metric.startswith("waste."):
        return "mass"
    if metric in CONVENTIONAL:
        return "lab"
    entry = reference.metrics()[metric]
    if entry.is_wastewater_sample and "ug/L" in entry.accepted_units:
        return "metals"
    return None


def unit_for(metric: str, habits: dict[str, str]) -> str:
    """The unit a facility with these habits uses for a metric (always one the catalogue accepts)."""
    entry = reference.metrics()[metric]
    family = _family(metric)
    unit = habits.get(family, entry.canonical_unit) if family else entry.canonical_unit
    return unit if unit in entry.accepted_units else entry.canonical_unit


def _decimals(unit: str, typical: float) -> int:
    if unit in INTEGER_UNITS:
        return 0
    if unit == "m3":
        return 1
    if typical >= 1000:
        return 0
    if typical >= 10:
        return 1
    if typical >= 1:
        return 2
    return 3


def format_series(metric: str, unit: str, canonical: np.ndarray) -> list[str]:
    """The values as typed in `unit`: rounded to the decimals a person would use for that size."""
    in_unit = canonical / unit_factor(metric, unit)
    positive = in_unit[in_unit > 0]
    decimals = _decimals(unit, float(np.median(positive)) if positive.size else 0.0)
    if decimals == 0:
        return [str(v) for v in np.rint(in_unit).astype(np.int64).tolist()]
    template = f"{{:.{decimals}f}}"
    return [template.format(v) for v in in_unit.tolist()]


class Noise:
    """Lognormal multipliers from one block of draws, so a facility costs few calls to the generator."""

    def __init__(self, rng: np.random.Generator, months: int, rows: int = 48) -> None:
        self._block = rng.standard_normal((rows, months))
        self._next = 0

    def __call__(self, sigma: float) -> np.ndarray:
        row = self._block[self._next % len(self._block)]
        self._next += 1
        return np.exp(sigma * row)


def _fuel_canonical(fuel: str, kilograms: np.ndarray) -> np.ndarray:
    return kilograms * unit_factor(f"energy.fuel.{fuel}", "kg")


def _fuel_kg_for_heat(fuel: str, heat_gj: np.ndarray) -> np.ndarray:
    return heat_gj / BOILER_EFFICIENCY * 1000.0 / reference.fuels()[fuel].ncv_mj_per_kg


def _wage_steps(calendar: Calendar, rise_month: int) -> np.ndarray:
    """How many yearly wage rises separate each month from the wage in force in January 2023."""
    index = np.arange(calendar.months) + calendar.first_index
    risen_this_year = (index % 12 + 1 >= rise_month).astype(int)
    return index // 12 - 2023 + risen_this_year - (1 if rise_month == 1 else 0)


class SeriesBuilder:
    """Collects a facility's monthly series, then lays them out as rows per month."""

    def __init__(self, facility_id: str, habits: dict[str, str], present: np.ndarray, periods: list[str]):
        self.facility_id = facility_id
        self.habits = habits
        self.present = present
        self.periods = periods
        self.series: list[tuple[str, str, list[str], np.ndarray]] = []
        self.samples: list[list[Row]] = [[] for _ in periods]

    def add(self, metric: str, canonical: np.ndarray, when: np.ndarray | None = None) -> None:
        unit = unit_for(metric, self.habits)
        shown = self.present if when is None else self.present & when
        if shown.any():
            self.series.append((metric, unit, format_series(metric, unit, canonical), shown))

    def add_samples(self, t: int, sample_point: str, sample_date: str, results: list[Row]) -> None:
        for metric, value, unit in results:
            self.samples[t].append(
                [self.facility_id, self.periods[t], metric, value, unit, sample_point, sample_date, ""]
            )

    def rows(self, comments: dict[tuple[int, str], str]) -> list[list[Row]]:
        out: list[list[Row]] = []
        for t, period in enumerate(self.periods):
            if not self.present[t]:
                out.append([])
                continue
            month = [
                [self.facility_id, period, metric, text[t], unit, "", "", comments.get((t, metric), "")]
                for metric, unit, text, shown in self.series
                if shown[t]
            ]
            month.extend(self.samples[t])
            out.append(month)
        return out


def _lab_results(rng: np.random.Generator, habits: dict[str, str], level: float, raw: bool) -> list[Row]:
    """One sample's results as [metric, value, unit], `<x` below the detection limit x.

    `level` scales the typical treated effluent (below 1: cleaner); `raw` gives untreated inflow.
    """
    results = []
    draws = np.exp(rng.normal(0.0, 0.3, len(EFFLUENT)))
    for (metric, typical, limit, decimals), draw in zip(EFFLUENT, draws, strict=True):
        unit = unit_for(metric, habits)
        factor = unit_factor(metric, unit)
        if metric == "wastewater.ph":
            value = float(np.clip(7.3 + (draw - 1.0) * 2.0 + (0.6 if raw else 0.0), 5.5, 10.5))
        else:
            dirt = RAW_FACTOR.get(metric, 12.0 if metric in CONVENTIONAL else 4.0) if raw else 1.0
            value = typical * level * draw * dirt
        # Decimals are set for the canonical unit; a smaller unit (ug/L) needs fewer.
        shown = max(0, decimals - round(-np.log10(factor)))
        below_limit = bool(limit) and value < limit
        text = f"<{limit / factor:g}" if below_limit else f"{value / factor:.{shown}f}"
        results.append([metric, text, unit])
    return results


def _sample_date(rng: np.random.Generator, period: str) -> str:
    """A sampling day inside the month, now and then early in the next month."""
    year, month = (int(part) for part in period.split("-"))
    if rng.random() < 0.15:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return f"{year:04d}-{month:02d}-{int(rng.integers(1, 6)):02d}"
    return f"{year:04d}-{month:02d}-{int(rng.integers(3, 27)):02d}"


def simulate_factory(factory: Factory, calendar: Calendar, seed: int, reported: np.ndarray) -> FacilityMonths:
    """A factory's rows per month; `reported` marks the months it submitted (active, not missing)."""
    rng = stream(seed, factory.facility_id, SERIES_STREAM)
    noise = Noise(rng, calendar.months)
    spec = SECTORS[factory.sector]
    country = COUNTRIES[factory.country]
    months = calendar.calendar_months()
    index = np.arange(calendar.months) + calendar.first_index
    years = (index - month_index(LAST_PERIOD)) / 12.0  # negative: years before the last demo month
    active = factory.active_months(calendar)

    season = 1.0 + factory.season_amplitude * np.cos(2 * np.pi * (months - factory.season_peak) / 12.0)
    if country.holiday_month:
        season = np.where(months == country.holiday_month, season * 0.78, season)
    trend = (1.0 + factory.growth) ** years
    efficiency = np.exp(-factory.improvement_rate * years)  # above 1 in the past for improving factories
    progress = np.clip(years - years[0], 0.0, None)  # years since the first demo month

    workers = factory.workers * (1.0 + factory.growth / 2) ** years * noise(0.015)
    mass = factory.workers * spec.kg_per_worker * trend * season * noise(0.05)
    demand_kwh = mass * spec.kwh_per_kg * factory.intensity * efficiency * noise(0.04)
    outage = np.isin(months, country.outage_months)

    builder = SeriesBuilder(factory.facility_id, factory.units, reported, calendar.periods)
    comments: dict[tuple[int, str], str] = {}

    solar_on = index >= factory.solar_start
    solar = np.zeros(calendar.months)
    if factory.solar_kwp and solar_on.any():
        kwp = factory.solar_kwp * float(demand_kwh.mean()) / 120.0
        if factory.improving:  # a second phase a year after the first
            kwp = np.where(index >= factory.solar_start + 12, kwp * 1.8, kwp)
        yield_ = np.array(factory.park.solar_yield)[months - 1]
        solar = np.where(solar_on, np.minimum(kwp * yield_ * noise(0.06), 0.7 * demand_kwh), 0.0)
        first_solar = int(np.argmax(solar_on & reported))
        if solar_on[first_solar] and reported[first_solar] and index[first_solar] == factory.solar_start:
            comments[(first_solar, "energy.electricity.solar_onsite")] = "rooftop solar commissioned"
    grid = (demand_kwh - solar) * np.where(outage & factory.has_generator, 0.94, 1.0)
    builder.add("energy.electricity.grid", grid)
    builder.add("energy.electricity.solar_onsite", solar, when=solar_on)
    if factory.contract_share:
        share = np.clip(factory.contract_share + (0.15 * progress if factory.improving else 0.0), 0.0, 1.0)
        builder.add("energy.electricity.renewable_contract", grid * share)

    heat_gj = mass * spec.heat_gj_per_kg * efficiency * noise(0.05)
    steam = None
    fuels: dict[str, np.ndarray] = {}
    if factory.buys_steam and spec.heat_gj_per_kg > 0.0015:
        steam = heat_gj
        builder.add("energy.steam.purchased", steam)
    elif factory.boiler_fuel:
        fuels[factory.boiler_fuel] = _fuel_canonical(
            factory.boiler_fuel, _fuel_kg_for_heat(factory.boiler_fuel, heat_gj)
        )
    if factory.has_generator:
        litres = factory.workers / 1000.0 * country.generator_litres_per_1000_workers
        generator = litres * np.where(outage, 2.0, 0.5) * noise(0.3)
        fuels["diesel"] = fuels.get("diesel", 0.0) + generator
        for t in np.flatnonzero(outage & reported)[:2]:
            comments[(int(t), "energy.fuel.diesel")] = "generator running during grid outages"
    for fuel in sorted(fuels):
        builder.add(f"energy.fuel.{fuel}", fuels[fuel])

    water_need = (mass * spec.water_m3_per_kg * efficiency + workers * 1.3) * noise(0.05)
    recycling = factory.recycling_share + (0.07 * progress if factory.improving else 0.01 * progress)
    recycled = water_need * np.clip(recycling, 0.0, 0.6) if factory.recycling_share else np.zeros_like(mass)
    withdrawal = water_need - recycled
    rain = withdrawal * 0.04 * (1.0 + np.cos(2 * np.pi * (months - 7) / 12.0)) if factory.rainwater else 0.0
    ground = (withdrawal - rain) * factory.groundwater_share
    builder.add("water.withdrawal.municipal", withdrawal - rain - ground)
    if factory.groundwater_share:
        builder.add("water.withdrawal.groundwater", ground)
    if factory.rainwater:
        builder.add("water.withdrawal.rainwater", rain)
    if factory.recycling_share:
        builder.add("water.recycled", recycled)
    wastewater = withdrawal * 0.82 * noise(0.03)
    builder.add(f"wastewater.discharged.{factory.discharge}", wastewater)

    builder.add("production.output_mass", mass)
    if spec.kg_per_piece:
        builder.add("production.output_pieces", mass / spec.kg_per_piece * noise(0.02))
        if country.holiday_month:
            for t in np.flatnonzero((months == country.holiday_month) & reported)[:1]:
                comments[(int(t), "production.output_pieces")] = "Tet holiday shutdown, 9 days"

    low, high = spec.chemical_products
    products = np.rint(rng.integers(low, high + 1) * (1.0 + 0.04 * progress) * noise(0.02))
    zdhc_share = np.clip(factory.zdhc_share + (0.12 if factory.improving else 0.02) * progress, 0.0, 0.97)
    builder.add("chemicals.products.total", products)
    builder.add("chemicals.products.zdhc_level1plus", np.floor(products * zdhc_share))
    builder.add("chemicals.consumption", mass * spec.chemicals_kg_per_kg * noise(0.1))

    offcuts = mass * spec.offcut_kg_per_kg * noise(0.08)
    builder.add("waste.hazardous", mass * spec.hazardous_kg_per_kg * noise(0.15))
    builder.add("waste.non_hazardous", offcuts)
    builder.add("waste.recycled", offcuts * np.clip(rng.uniform(0.3, 0.6) + 0.1 * progress, 0.0, 0.95))

    female_share = float(np.clip(spec.female_share + rng.normal(0.0, 0.05), 0.2, 0.95))
    headcount = np.rint(workers)
    female = np.rint(headcount * female_share)
    supervisors = np.rint(headcount / 30.0)
    supervisor_parity = rng.uniform(0.35, 0.8) + (0.08 * progress if factory.improving else 0.0)
    female_supervisors = np.rint(supervisors * np.clip(female_share * supervisor_parity, 0.0, 0.95))
    managers = np.maximum(2.0, np.rint(headcount / 110.0))
    female_managers = np.rint(managers * float(rng.uniform(0.15, 0.5)))
    builder.add("workforce.female", female)
    builder.add("workforce.male", headcount - female)
    builder.add("workforce.supervisors.female", female_supervisors)
    builder.add("workforce.supervisors.male", supervisors - female_supervisors)
    builder.add("workforce.managers.female", female_managers)
    builder.add("workforce.managers.male", managers - female_managers)
    people = headcount + supervisors + managers
    holiday = np.where(months == country.holiday_month, 0.8, 1.0) if country.holiday_month else 1.0
    hours = people * country.hours_per_person * holiday * noise(0.02)
    builder.add("workforce.hours_worked", hours)

    wage = (
        country.entry_wage
        * rng.uniform(1.0, 1.25)
        * (1.0 + country.wage_rise) ** _wage_steps(calendar, country.wage_rise_month)
    )
    step = 1000.0 if country.entry_wage > 1_000_000 else 10.0
    builder.add("wages.entry_level_monthly", np.rint(wage / step) * step)

    ltifr = factory.ltifr * (np.exp(-0.25 * years) if factory.improving else 1.0)
    lost_time = rng.poisson(hours * ltifr / 1e6)
    recordable = lost_time + rng.poisson(hours * ltifr * 1.3 / 1e6)
    lost_days = np.where(lost_time > 0, rng.poisson(np.maximum(lost_time, 1) * 7.0), 0)
    fatalities = (rng.random(calendar.months) < 0.0004).astype(float)
    reported_months = np.flatnonzero(reported)
    if factory.global_index == GUARANTEED_FATALITY and reported_months.size:
        fatalities[int(reported_months[reported_months.size // 2])] = 1.0
    lost_time = np.maximum(lost_time, fatalities)
    recordable = np.maximum(recordable, lost_time)
    builder.add("ohs.injuries.recordable", recordable.astype(float))
    builder.add("ohs.injuries.lost_time", lost_time.astype(float))
    builder.add("ohs.lost_days", lost_days.astype(float))
    builder.add("ohs.fatalities", fatalities)
    for t in np.flatnonzero((fatalities > 0) & reported):
        comments[(int(t), "ohs.fatalities")] = "fatal accident reported to the labour inspectorate"

    received = rng.poisson(headcount / 180.0)
    resolution = np.clip(rng.uniform(0.6, 0.85) + (0.1 * progress if factory.improving else 0.0), 0.0, 1.0)
    builder.add("grievances.received", received.astype(float))
    builder.add("grievances.resolved", rng.binomial(received, resolution).astype(float))
    builder.add("grievances.gbv.received", rng.poisson(headcount / 6000.0).astype(float))
    builder.add("training.hours", headcount * rng.uniform(0.5, 2.5) * noise(0.2))

    if factory.has_lab_results:
        quality = factory.lab_quality * (np.exp(-0.3 * years) if factory.improving else np.ones(len(years)))
        for t in np.flatnonzero(reported):
            sample_date = _sample_date(rng, calendar.periods[t])
            results = _lab_results(rng, factory.units, float(quality[t]), raw=False)
            builder.add_samples(int(t), "discharge", sample_date, results)

    return FacilityMonths(
        facility_id=factory.facility_id,
        rows=builder.rows(comments),
        steam_gj=None if steam is None else np.where(active, steam, 0.0),
        to_cetp_m3=np.where(active, wastewater, 0.0) if factory.discharge == "to_cetp" else None,
    )


def _capped(metric: str, canonical: np.ndarray) -> np.ndarray:
    """Values held under the catalogue's plausible maximum, with a little month-to-month movement."""
    ceiling = reference.metrics()[metric].plausible_max_per_month
    if ceiling is None:
        return canonical
    wobble = 0.96 + 0.04 * np.cos(np.arange(len(canonical)) * 2.1)
    return np.minimum(canonical, SHARED_CAP_SHARE * ceiling * wobble)


def _staff(builder: SeriesBuilder, rng: np.random.Generator, noise: Noise, country: str, staff: int) -> None:
    """Workforce, hours, safety and grievances of a shared plant's own small team."""
    people = np.full(len(builder.periods), float(staff))
    female = np.rint(people * 0.25)
    builder.add("workforce.female", female)
    builder.add("workforce.male", people - female)
    builder.add("workforce.supervisors.female", np.full(len(people), 1.0))
    builder.add("workforce.supervisors.male", np.full(len(people), 3.0))
    builder.add("workforce.managers.female", np.full(len(people), 1.0))
    builder.add("workforce.managers.male", np.full(len(people), 1.0))
    hours = (people + 6) * COUNTRIES[country].hours_per_person * noise(0.02)
    builder.add("workforce.hours_worked", hours)
    lost_time = rng.poisson(hours * 4.0 / 1e6)
    builder.add("ohs.injuries.recordable", (lost_time + rng.poisson(hours * 3.0 / 1e6)).astype(float))
    builder.add("ohs.injuries.lost_time", lost_time.astype(float))
    builder.add("ohs.lost_days", np.where(lost_time > 0, rng.poisson(5.0, len(people)), 0).astype(float))
    builder.add("ohs.fatalities", np.zeros(len(people)))
    received = rng.poisson(0.3, len(people))
    builder.add("grievances.received", received.astype(float))
    builder.add("grievances.resolved", received.astype(float))
    builder.add("training.hours", people * 3.0 * noise(0.2))


def simulate_shared(
    facility: SharedFacility,
    calendar: Calendar,
    seed: int,
    reported: np.ndarray,
    park_steam_gj: np.ndarray,
    park_to_cetp_m3: np.ndarray,
) -> FacilityMonths:
    """A shared plant's rows: a CETP treats what the park's factories send, a boiler makes their steam."""
    rng = stream(seed, facility.facility_id, SERIES_STREAM)
    noise = Noise(rng, calendar.months)
    habits = {"lab": "mg/L", "metals": "mg/L"}
    builder = SeriesBuilder(facility.facility_id, habits, reported, calendar.periods)
    months = calendar.calendar_months()
    index = np.arange(calendar.months) + calendar.first_index
    years = (index - month_index(LAST_PERIOD)) / 12.0
    comments: dict[tuple[int, str], str] = {}

    if facility.type == "solar_plant":
        capacity_kwp = np.where(index >= month_index("2024-07"), 3200.0, 1800.0)
        yield_ = np.array(facility.park.solar_yield)[months - 1]
        builder.add("energy.electricity.solar_onsite", capacity_kwp * yield_ * noise(0.05))
        for t in np.flatnonzero((index == month_index("2024-07")) & reported):
            comments[(int(t), "energy.electricity.solar_onsite")] = "second array of 1.4 MWp connected"
    elif facility.type == "central_boiler":
        steam = np.maximum(park_steam_gj, 2000.0) * noise(0.02)
        fuel_gj = steam / BOILER_EFFICIENCY
        for fuel, share in (("biomass_wood", 0.6), ("biomass_briquettes", 0.4)):
            kilograms = fuel_gj * share * 1000.0 / reference.fuels()[fuel].ncv_mj_per_kg
            builder.add(
                f"energy.fuel.{fuel}", _capped(f"energy.fuel.{fuel}", _fuel_canonical(fuel, kilograms))
            )
        builder.add("energy.electricity.grid", _capped("energy.electricity.grid", steam * 5.0))
        builder.add("water.withdrawal.municipal", _capped("water.withdrawal.municipal", steam * 0.4))
        builder.add("waste.non_hazardous", _capped("waste.non_hazardous", fuel_gj * 2.5))
        _staff(builder, rng, noise, facility.park.country, 32)
    elif facility.type == "cetp":
        inflow = np.maximum(park_to_cetp_m3, CETP_MINIMUM_INFLOW_M3)
        treated = _capped("wastewater.discharged.direct", inflow * 0.97)
        recycled = treated * facility.park.cetp_recycled_share
        kwh_per_m3 = 3.2 if facility.park.cetp_recycled_share else 1.1
        builder.add("energy.electricity.grid", _capped("energy.electricity.grid", treated * kwh_per_m3))
        if facility.park.cetp_recycled_share:
            builder.add("water.recycled", recycled)
        builder.add("wastewater.discharged.direct", treated - recycled)
        builder.add("chemicals.consumption", _capped("chemicals.consumption", treated * 0.35 * noise(0.1)))
        builder.add("waste.hazardous", _capped("waste.hazardous", treated * 0.6 * noise(0.1)))
        _staff(builder, rng, noise, facility.park.country, 24)
        quality = 0.9 * np.exp(-0.2 * years)  # the plant is tuned year after year
        for t in np.flatnonzero(reported):
            sample_date = _sample_date(rng, calendar.periods[t])
            for point, level, raw in (("raw", 1.0, True), ("treated", 1.1, False), ("discharge", 1.0, False)):
                results = _lab_results(rng, habits, float(quality[t]) * level, raw)
                builder.add_samples(int(t), point, sample_date, results)
    return FacilityMonths(facility_id=facility.facility_id, rows=builder.rows(comments))
