"""Indicator sums do not depend on the order rows are added, so rebuilt releases are byte-identical."""

from __future__ import annotations

import duckdb

from instep.indicators.formulas import exact_avg, exact_sum


def sums_in_both_orders(expression: str) -> set[float]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v DOUBLE, k INTEGER)")
    results = set()
    for order in ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1]):
        con.execute("DELETE FROM t")
        con.executemany("INSERT INTO t VALUES (?, 1)", [[v] for v in order])
        # One thread adds the rows in insertion order: the order is what the test varies.
        con.execute("SET threads = 1")
        results.add(con.execute(f"SELECT {expression} FROM t").fetchall()[0][0])
    return results


def test_plain_double_sums_differ_with_the_order_of_the_rows():
    assert sums_in_both_orders("sum(v)") == {0.6000000000000001, 0.6}


def test_exact_sum_is_the_same_in_any_order():
    assert sums_in_both_orders(exact_sum("v")) == {0.6}


def test_exact_sum_with_a_filter_and_exact_mean():
    assert sums_in_both_orders(exact_sum("v", "v > 0.15")) == {0.5}
    assert sums_in_both_orders(exact_avg("v")) == {0.6 / 3}
