"""The trend charts of park and facility pages: which published columns each one draws, in what unit.

Input frames are release tables read as text (`Release.table`); the charts get numbers in long form
(month, series, value, unit) which is also what their CSV download holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from instep.indicators.formulas import KWH_TO_GJ
from instep.site.charts import Figure, month_after, share_line, small_multiples, stacked_monthly
from instep.site.markup import unit_label

# The same conversion the indicators use (reference/units.csv), for drawing electricity beside fuels.
GJ_PER_KWH = KWH_TO_GJ


COLUMNS = ["month", "series", "value", "unit", "order"]


def _long(monthly: pd.DataFrame, series: list[tuple[str, str, float]], unit: str) -> pd.DataFrame:
    """Monthly rows -> long rows (month by month, series in the given order); `series` lists (label,
    column, factor); missing columns and empty cells are skipped."""
    months = (monthly["period"] + "-01").to_numpy() if len(monthly) else []
    parts = []
    for order, (label, column, factor) in enumerate(series):
        if column not in monthly.columns:
            continue
        cells = monthly[column].astype(str)
        values = pd.to_numeric(cells.where(cells.str.strip() != ""), errors="raise").to_numpy(dtype=float)
        # Python's round (correctly rounded), as the CSV downloads always had.
        scaled = [round(float(v) * factor, 6) for v in values]
        part = pd.DataFrame({"month": months, "series": label, "value": scaled, "unit": unit, "order": order})
        parts.append(part.dropna(subset=["value"]))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.concat(parts, ignore_index=True).sort_values(["month", "order"], kind="stable")
    return frame.reset_index(drop=True)[COLUMNS]


def _grid_not_contracted(monthly: pd.DataFrame) -> pd.DataFrame:
    """Grid electricity minus what renewable contracts cover (the contract share is shown apart)."""
    frame = monthly.copy()
    grid = pd.to_numeric(frame.get("electricity_grid_kwh"), errors="coerce")
    contract = pd.to_numeric(frame.get("electricity_renewable_contract_kwh"), errors="coerce").fillna(0)
    frame["_grid_other_kwh"] = (grid - contract).clip(lower=0).astype(str).replace("nan", "")
    return frame


def _figure(data: pd.DataFrame, slug: str, title: str, alt: str, chart: Any, table: str, unit: str) -> Figure:
    """A chart of long-form monthly `data` with its downloadable table (without the sort column)."""
    return Figure(
        slug=slug, title=title, alt=alt, chart=chart, data=data.drop(columns="order"), table=table, unit=unit
    )


def _stacked(
    monthly: pd.DataFrame,
    series: list[tuple[str, str, float]],
    unit: str,
    *,
    slug: str,
    title: str,
    description: str,
    table: str,
    mark: str = "bar",
) -> Figure | None:
    """A stacked monthly chart of `series` (label, column, factor), or None when none has data.

    Its time axis spans every month of `monthly` (the table's months, with a value or not), so a month
    without one is a gap. An area is drawn only over an unbroken run of months in which every series
    has a value: across a gap it would join the months on either side as if the values between were
    known, and a single month would not show at all. Otherwise the chart has bars."""
    data = _long(monthly, series, unit)
    if data.empty:
        return None
    window = _window(monthly)
    if mark == "area" and not _unbroken(data):
        mark = "bar"
    return _figure(
        data,
        slug,
        title,
        _summary(data, description, unit, window, [label for label, _, _ in series]),
        stacked_monthly(data, unit, mark=mark, window=window),
        table,
        unit,
    )


def _window(monthly: pd.DataFrame) -> tuple[str, str]:
    """The first and last month of a table's rows (YYYY-MM), with a value or not."""
    return str(monthly["period"].min()), str(monthly["period"].max())


def months_in(window: tuple[str, str]) -> list[str]:
    """Every month (YYYY-MM) from the window's first to its last, both included."""
    months = [window[0]]
    while months[-1] < window[1]:
        months.append(month_after(months[-1]))
    return months


def _with_gaps(data: pd.DataFrame, window: tuple[str, str]) -> pd.DataFrame:
    """The long rows of a line chart with a row without value for each series' months that have none,
    so that the drawn line breaks there (the download keeps the rows with values only)."""
    months = [f"{month}-01" for month in months_in(window)]
    full = pd.MultiIndex.from_product([data["series"].unique(), months], names=["series", "month"])
    present = pd.MultiIndex.from_frame(data[["series", "month"]])
    missing = full.difference(present)
    if missing.empty:
        return data
    blanks = missing.to_frame(index=False).assign(value=float("nan"), unit=data["unit"].iloc[0])
    order = dict(zip(data["series"], data["order"], strict=False))
    blanks["order"] = blanks["series"].map(order)
    return pd.concat([data, blanks[data.columns]], ignore_index=True).sort_values(
        ["month", "order"], kind="stable", ignore_index=True
    )


def _unbroken(data: pd.DataFrame) -> bool:
    """Whether the long rows hold every series in every month from their first month to their last,
    and at least two months."""
    months = sorted(data["month"].str[:7].unique())
    run = months_in((months[0], months[-1]))
    return len(run) > 1 and len(data) == len(run) * data["series"].nunique()


def emissions(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _stacked(
        monthly,
        [
            ("Scope 1 (fuels)", "scope1_t_co2e", 1.0),
            ("Scope 2 (grid, location-based)", "scope2_location_t_co2e", 1.0),
        ],
        "t CO2e",
        slug="emissions",
        title=f"Greenhouse gas emissions, {name}",
        description=f"Monthly Scope 1 and Scope 2 (location-based) emissions of {name}",
        table=table,
    )


def energy_mix(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _stacked(
        _grid_not_contracted(monthly),
        [
            ("Grid electricity", "_grid_other_kwh", GJ_PER_KWH),
            ("Grid electricity under renewable contracts", "electricity_renewable_contract_kwh", GJ_PER_KWH),
            ("On-site solar electricity", "electricity_solar_kwh", GJ_PER_KWH),
            ("Fuels", "fuel_energy_gj", 1.0),
            ("Purchased steam", "steam_purchased_gj", 1.0),
        ],
        "GJ",
        slug="energy-mix",
        title=f"Energy use by source, {name}",
        description=(
            f"Monthly energy use of {name} by source (electricity converted at {GJ_PER_KWH * 1000:g} MJ/kWh)"
        ),
        table=table,
        mark="area",
    )


def water(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _stacked(
        monthly,
        [
            ("Municipal", "water_municipal_m3", 1.0),
            ("Groundwater", "water_groundwater_m3", 1.0),
            ("Surface water", "water_surface_m3", 1.0),
            ("Rainwater", "water_rainwater_m3", 1.0),
        ],
        "m3",
        slug="water",
        title=f"Water withdrawal by source, {name}",
        description=f"Monthly water withdrawal of {name} by source",
        table=table,
    )


def wastewater(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    data = _long(
        monthly, [("Results meeting ZDHC foundational limits", "zdhc_foundational_share_pct", 1.0)], "%"
    )
    if data.empty:
        return None
    low, high = data["value"].min(), data["value"].max()
    alt = (
        f"Monthly share of discharge wastewater results of {name} meeting the ZDHC foundational limits, "
        f"between {low:.1f} % and {high:.1f} % over {data['month'].nunique()} months with results."
    )
    window = _window(monthly)
    chart = share_line(_with_gaps(data, window), window=window)
    return _figure(data, "wastewater", f"Wastewater compliance, {name}", alt, chart, table, "%")


def _lines(
    monthly: pd.DataFrame,
    series: list[tuple[str, str, float]],
    unit: str,
    *,
    slug: str,
    title: str,
    description: str,
    table: str,
) -> Figure | None:
    """Monthly lines of `series` (label, column, factor), or None when none has data."""
    data = _long(monthly, series, unit)
    if data.empty:
        return None
    unit_text = unit_label(unit)
    spacer = "\u202f" if unit == "%" else " "
    ranges = "; ".join(
        f"{label} from {rows['value'].min():,.1f}{spacer}{unit_text} to {rows['value'].max():,.1f}"
        f"{spacer}{unit_text}"
        for label, rows in data.groupby("series", sort=False)
    )
    first, last = data["month"].min()[:7], data["month"].max()[:7]
    alt = f"{description}, {first} to {last}: {ranges}."
    window = _window(monthly)
    chart = share_line(_with_gaps(data, window), unit, percent=unit == "%", window=window)
    return _figure(data, slug, title, alt, chart, table, unit)


def social(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _lines(
        monthly,
        [
            ("Women in the workforce", "women_share_workforce_pct", 1.0),
            ("Women among supervisors", "women_share_supervisors_pct", 1.0),
            ("Grievances resolved", "grievance_resolution_rate_pct", 1.0),
        ],
        "%",
        slug="social",
        title=f"Women's shares and grievances resolved, {name}",
        description=f"Monthly shares of women in the workforce and among supervisors, and of grievances "
        f"resolved, of {name}",
        table=table,
    )


def injuries(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _lines(
        monthly,
        [("Lost-time injury frequency rate", "ltifr", 1.0)],
        "per 1000000 h",
        slug="ltifr",
        title=f"Lost-time injuries per million hours worked, {name}",
        description=f"Monthly lost-time injury frequency rate (LTIFR) of {name}",
        table=table,
    )


def chemicals(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    return _lines(
        monthly,
        [("Chemical products conforming to the ZDHC MRSL", "mrsl_conformance_pct", 1.0)],
        "%",
        slug="chemicals",
        title=f"Chemicals conforming to the MRSL, {name}",
        description=f"Monthly share of chemical products of {name} conforming to the ZDHC Manufacturing "
        "Restricted Substances List (MRSL)",
        table=table,
    )


def trend_figures(monthly: pd.DataFrame, name: str, table: str) -> list[Figure]:
    monthly = monthly.sort_values("period")
    figures = [emissions(monthly, name, table), energy_mix(monthly, name, table), water(monthly, name, table)]
    figures.append(wastewater(monthly, name, table))
    figures += [chemicals(monthly, name, table), social(monthly, name, table), injuries(monthly, name, table)]
    return [figure for figure in figures if figure is not None]


# The facility overview's panels: (label, columns summed, unit), in reading order.
OVERVIEW = (
    ("GHG emissions, Scope 1 + 2 (location-based)", ("scope1_t_co2e", "scope2_location_t_co2e"), "t CO2e"),
    ("Energy use", ("energy_total_gj",), "GJ"),
    ("Renewable share of electricity", ("renewable_electricity_share_pct",), "%"),
    ("Water withdrawal", ("water_withdrawal_m3",), "m3"),
    ("Wastewater meeting ZDHC foundational limits", ("zdhc_foundational_share_pct",), "%"),
)


def facility_overview(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    """A facility's trends as one chart: a small panel per measure, totals only, on a shared time axis.

    Park pages break emissions, energy, water and wastewater down by source; a facility page answers
    "going up or down?" for each measure at a glance, and stays one chart per page at national scale.
    The breakdowns of every facility are in the facility_monthly table of the release.

    Built from plain rows, not with pandas: it runs once per facility page, and at twenty thousand
    facilities a few milliseconds of frame operations each add up to minutes.
    """
    periods = monthly["period"].tolist()
    in_time_order = sorted(range(len(periods)), key=periods.__getitem__)
    rows: list[tuple[str, str, float, str, int]] = []
    described: list[str] = []
    for order, (label, columns, unit) in enumerate(OVERVIEW):
        present = [monthly[c].tolist() for c in columns if c in monthly.columns]
        panel = []
        for row in in_time_order:
            numbers = [round(float(cell), 6) for cells in present if (cell := str(cells[row]).strip())]
            numbers = [number for number in numbers if not math.isnan(number)]
            if numbers:
                # A sum over the columns the month has (Scope 1 or Scope 2 alone still counts).
                panel.append((f"{periods[row]}-01", label, round(sum(numbers), 6), unit, order))
        if panel:
            described.append(_panel_text(label, unit, panel[0], panel[-1]))
            rows += panel
    if not rows:
        return None
    months = [row[0] for row in rows]
    first, last = min(months)[:7], max(months)[:7]
    return Figure(
        slug="trends",
        title=f"Monthly trends, {name}",
        alt=f"Monthly trends of {name}, {first} to {last}, one panel per measure: {'; '.join(described)}.",
        chart=small_multiples(rows),
        data=pd.DataFrame([row[:4] for row in rows], columns=COLUMNS[:4]),
        table=table,
        png=False,
        mobile=False,
    )


def _panel_text(label: str, unit: str, first: tuple, last: tuple) -> str:
    """A panel in words: its first and last month's (month, series, value, ...) row."""
    unit = {"t CO2e": "t CO₂e", "m3": "m³"}.get(unit, unit)
    decimals = 1 if unit == "%" else 0
    spacer = "\u202f" if unit == "%" else " "
    return (
        f"{label} {first[2]:,.{decimals}f}{spacer}{unit} in {first[0][:7]}, "
        f"{last[2]:,.{decimals}f}{spacer}{unit} in {last[0][:7]}"
    )


def _summary(
    data: pd.DataFrame, what: str, unit: str, window: tuple[str, str], series: Sequence[str] = ()
) -> str:
    """A text alternative: what is drawn, the period, the first and last monthly totals, how many of
    the window's months (first and last, YYYY-MM) have a value, and which of the chart's `series` have
    none (the totals are then of the others only)."""
    totals = data.groupby("month")["value"].sum().sort_index()
    first, last = totals.index[0][:7], totals.index[-1][:7]
    unit_text = {"t CO2e": "t CO₂e", "m3": "m³"}.get(unit, unit)
    months = len(months_in(window))
    span = f"the {months} months from {window[0]} to {window[1]}"
    if len(totals) == 1:
        text = f"{what}: {totals.iloc[0]:,.0f} {unit_text} in {first}"
        if months > 1:
            text += f", the only one of {span} with a value"
    else:
        text = (
            f"{what}, {first} to {last}: {totals.iloc[0]:,.0f} {unit_text} in the first month and "
            f"{totals.iloc[-1]:,.0f} {unit_text} in the last (highest {totals.max():,.0f} {unit_text})"
        )
        if len(totals) < months:
            text += f"; {len(totals)} of {span} have a value"
    shown = set(data["series"])
    if absent := [label for label in series if label not in shown]:
        pronoun = "it" if len(absent) == 1 else "them"
        text += f". No month has a value for {_or(absent)}; the totals leave {pronoun} out"
    return text + "."


def _or(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
