"""Indicators computed in DuckDB from the accepted observations: facility-month, park-month, park-year.

Each step is plain SQL on one connection, writing an `out_*` table whose columns are described in
`instep.metadata.resources`. The formulas are in `instep.indicators.formulas`; the factors come from
`instep.reference` through `instep.indicators.reference_tables`.
"""
