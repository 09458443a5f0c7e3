"""The trend charts of park and facility pages: which published columns each one draws, in what unit.

Input frames are release tables read as text (`Release.table`); the charts get numbers in long form
(month, series, value, unit) which is also what their CSV download holds.
"""

from __future__ import annotations

import pandas as pd

from instep.site.charts import Figure, share_line, stacked_monthly
from instep.site.release import number

GJ_PER_KWH = 0.0036


def _long(monthly: pd.DataFrame, series: list[tuple[str, str, float]], unit: str) -> pd.DataFrame:
    """Monthly rows -> long rows; `series` lists (label, column, factor); missing columns are skipped."""
    rows = []
    for _, row in monthly.iterrows():
        for order, (label, column, factor) in enumerate(series):
            if column not in monthly.columns:
                continue
            value = number(row[column])
            if value is None:
                continue
            rows.append(
                {
                    "month": f"{row['period']}-01",
                    "series": label,
                    "value": round(value * factor, 6),
                    "unit": unit,
                    "order": order,
                }
            )
    return pd.DataFrame(rows, columns=["month", "series", "value", "unit", "order"])


def _grid_not_contracted(monthly: pd.DataFrame) -> pd.DataFrame:
    """Grid electricity minus what renewable contracts cover (the contract share is shown apart)."""
    frame = monthly.copy()
    grid = pd.to_numeric(frame.get("electricity_grid_kwh"), errors="coerce")
    contract = pd.to_numeric(frame.get("electricity_renewable_contract_kwh"), errors="coerce").fillna(0)
    frame["_grid_other_kwh"] = (grid - contract).clip(lower=0).astype(str).replace("nan", "")
    return frame


def emissions(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    data = _long(
        monthly,
        [
            ("Scope 1 (fuels)", "scope1_t_co2e", 1.0),
            ("Scope 2 (grid, location-based)", "scope2_location_t_co2e", 1.0),
        ],
        "t CO2e",
    )
    if data.empty:
        return None
    return Figure(
        slug="emissions",
        title=f"Greenhouse gas emissions, {name}",
        alt=_summary(data, f"Monthly Scope 1 and Scope 2 (location-based) emissions of {name}", "t CO2e"),
        chart=stacked_monthly(data, "t CO2e"),
        data=data.drop(columns="order"),
        table=table,
        unit="t CO2e",
    )


def energy_mix(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    frame = _grid_not_contracted(monthly)
    data = _long(
        frame,
        [
            ("Grid electricity", "_grid_other_kwh", GJ_PER_KWH),
            ("Grid electricity under renewable contracts", "electricity_renewable_contract_kwh", GJ_PER_KWH),
            ("On-site solar electricity", "electricity_solar_kwh", GJ_PER_KWH),
            ("Fuels", "fuel_energy_gj", 1.0),
            ("Purchased steam", "steam_purchased_gj", 1.0),
        ],
        "GJ",
    )
    if data.empty:
        return None
    return Figure(
        slug="energy-mix",
        title=f"Energy use by source, {name}",
        alt=_summary(
            data, f"Monthly energy use of {name} by source (electricity converted at 3.6 MJ/kWh)", "GJ"
        ),
        chart=stacked_monthly(data, "GJ", mark="area"),
        data=data.drop(columns="order"),
        table=table,
        unit="GJ",
    )


def water(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    data = _long(
        monthly,
        [
            ("Municipal", "water_municipal_m3", 1.0),
            ("Groundwater", "water_groundwater_m3", 1.0),
            ("Surface water", "water_surface_m3", 1.0),
            ("Rainwater", "water_rainwater_m3", 1.0),
        ],
        "m3",
    )
    if data.empty:
        return None
    return Figure(
        slug="water",
        title=f"Water withdrawal by source, {name}",
        alt=_summary(data, f"Monthly water withdrawal of {name} by source", "m3"),
        chart=stacked_monthly(data, "m3"),
        data=data.drop(columns="order"),
        table=table,
        unit="m3",
    )


def wastewater(monthly: pd.DataFrame, name: str, table: str) -> Figure | None:
    data = _long(
        monthly, [("Results meeting ZDHC foundational limits", "zdhc_foundational_share_pct", 1.0)], "%"
    )
    if data.empty:
        return None
    low, high = data["value"].min(), data["value"].max()
    return Figure(
        slug="wastewater",
        title=f"Wastewater compliance, {name}",
        alt=(
            f"Monthly share of discharge wastewater results of {name} meeting the ZDHC foundational limits, "
            f"between {low:.1f} % and {high:.1f} % over {data['month'].nunique()} months with results."
        ),
        chart=share_line(data),
        data=data.drop(columns="order"),
        table=table,
        unit="%",
    )


def trend_figures(monthly: pd.DataFrame, name: str, table: str) -> list[Figure]:
    monthly = monthly.sort_values("period")
    figures = [emissions(monthly, name, table), energy_mix(monthly, name, table), water(monthly, name, table)]
    figures.append(wastewater(monthly, name, table))
    return [figure for figure in figures if figure is not None]


def _summary(data: pd.DataFrame, what: str, unit: str) -> str:
    """A text alternative: what is drawn, the period, and the first and last monthly totals."""
    totals = data.groupby("month")["value"].sum().sort_index()
    first, last = totals.index[0][:7], totals.index[-1][:7]
    unit_text = {"t CO2e": "t CO₂e", "m3": "m³"}.get(unit, unit)
    return (
        f"{what}, {first} to {last}: {totals.iloc[0]:,.0f} {unit_text} in the first month and "
        f"{totals.iloc[-1]:,.0f} {unit_text} in the last (highest {totals.max():,.0f} {unit_text})."
    )
