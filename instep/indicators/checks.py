"""Invariants of the indicator tables, as queries that list what breaks them (used by asset checks)."""

from __future__ import annotations

import duckdb

# Park-month columns that must equal the plain sum of the park's facility-months.
PLAIN_SUMS = (
    "scope1_t_co2e",
    "scope2_location_t_co2e",
    "biogenic_co2_t",
    "water_withdrawal_m3",
    "output_kg",
    "hours_worked",
)
TOLERANCE = 1e-6


def park_sum_mismatches(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(park_id, period, column, park value, facility sum) where a park total is not its facilities' sum."""
    sums = ", ".join(f"sum(f.{c}) AS {c}" for c in PLAIN_SUMS)
    checks = " UNION ALL ".join(
        f"SELECT p.park_id, p.period, '{c}' AS col, p.{c} AS park, s.{c} AS facilities "
        f"FROM out_park_monthly p JOIN s USING (park_id, period) "
        f"WHERE abs(coalesce(p.{c}, 0) - coalesce(s.{c}, 0)) "
        f"> {TOLERANCE} * greatest(1, abs(coalesce(s.{c}, 0)))"
        for c in PLAIN_SUMS
    )
    energy = f"""
        SELECT p.park_id, p.period, 'energy_total_gj', p.energy_total_gj, s.energy - s.internal_steam
        FROM out_park_monthly p JOIN s USING (park_id, period)
        WHERE abs(coalesce(p.energy_total_gj, 0) - (coalesce(s.energy, 0) - s.internal_steam))
            > {TOLERANCE} * greatest(1, abs(coalesce(s.energy, 0)))"""
    sql = f"""
        WITH s AS (
            SELECT f.park_id, f.period, {sums}, sum(f.energy_total_gj) AS energy,
                coalesce(sum(f.steam_purchased_gj) FILTER (
                    WHERE f.park_id IN (SELECT park_id FROM facilities WHERE type = 'central_boiler')), 0)
                    AS internal_steam
            FROM out_facility_monthly f GROUP BY f.park_id, f.period
        )
        {checks} UNION ALL {energy} ORDER BY 1, 2, 3"""
    return con.execute(sql).fetchall()
