"""Disclosure control on hand-computed tables: the sensitivity rules, protection, secondary suppression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from instep.disclosure import rules
from instep.disclosure.attack import interval
from instep.disclosure.cells import MONTH, YEAR, HiddenCell
from instep.disclosure.plan import Plan, secondary_suppression
from instep.disclosure.relations import Relation

PARAMS = rules.parameters()


def test_the_parameters_are_read_from_the_data_file_with_their_sources():
    assert (PARAMS.min_contributors, PARAMS.dominance_n, PARAMS.dominance_k, PARAMS.p_percent) == (
        3,
        2,
        85.0,
        15.0,
    )
    assert all(row.source for row in rules.parameter_rows())


@pytest.mark.parametrize(
    ("contributions", "rule"),
    [
        ([], None),  # nothing hidden in the cell
        ([360.0], rules.THRESHOLD),  # park minus published facilities is its own value
        ([200.0, 160.0], rules.THRESHOLD),  # each of the two subtracts its own and learns the other's
        ([0.0, 0.0], rules.THRESHOLD),  # two zeros: each knows the other's is zero
        ([5.0, 0.0, 0.0], rules.THRESHOLD),  # one non-zero among three: it is the total
        ([5.0, 4.0, 0.0], rules.THRESHOLD),  # two non-zero
        ([0.0, 0.0, 0.0], None),  # zeros from three facilities: no size to protect
        ([50.0, 40.0, 10.0], rules.DOMINANCE),  # the two largest are 90 % > 85 %
        ([45.0, 40.0, 15.0], None),  # 85 %: not more than k; rest 15 >= 0.15 x 45
        ([40.0, 30.0, 30.0], None),
    ],
)
def test_sensitivity_rules_on_hand_computed_cells(contributions, rule):
    assert rules.sensitivity(contributions, PARAMS) == rule


def test_p_percent_rule_flags_a_second_contributor_that_estimates_the_largest_closely():
    # p = 25 with a loose dominance rule: 100, 60, 10 -> 100 - 60 = 40 ... the second estimates the first
    # as total - own = 110, 10 % off: within 25 %.
    params = rules.Parameters(min_contributors=3, dominance_n=2, dominance_k=99.0, p_percent=25.0)
    assert rules.sensitivity([100.0, 60.0, 10.0], params) == rules.P_PERCENT
    assert rules.sensitivity([100.0, 60.0, 30.0], params) is None  # 30 >= 25 % of 100


@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=3, max_size=12))
def test_with_the_published_parameters_the_p_percent_rule_never_flags_what_dominance_passes(values):
    # p = 15 < 100 (100 - 85) / 85: every cell the p % rule flags, the (2, 85) rule flags first, so the
    # p % parameter acts through the protection level (documented on the methodology page).
    assert rules.sensitivity(values, PARAMS) != rules.P_PERCENT


def test_protection_keeps_p_percent_of_the_largest_part_on_both_sides():
    level = rules.protection_level([200.0, 160.0], PARAMS)
    assert level == pytest.approx(30.0)  # 15 % of 200
    assert rules.is_protected(360.0, 0.0, 390.0, level)
    assert not rules.is_protected(360.0, 0.0, 389.0, level)  # room above 29 < 30
    assert not rules.is_protected(360.0, 331.0, 1e9, level)  # room below 29 < 30
    assert rules.is_protected(20.0, 0.0, float("inf"), 30.0)  # below: down to zero is enough
    assert rules.is_protected(0.0, 0.0, 0.0, rules.protection_level([0.0], PARAMS))  # zero: nothing to keep


def _cell(row: str, column: str) -> tuple[str, str, str, str]:
    return ("XX-TST", MONTH, row, column)


def test_a_2_x_3_table_with_totals_withholding_one_cell_forces_a_rectangle():
    """Rows r1, r2, columns a, b, c; row totals and column totals published; r1.a is one facility's.

    Withholding r1.a alone lets row 1's total give it back; the cheapest protection also withholds the
    smallest cell of row 1 that gives room (r1.b, 40), then column a's r2.a and column b's r2.b close the
    rectangle, so that every relation has two withheld members.
    """
    values = {"r1.a": 10.0, "r1.b": 40.0, "r1.c": 90.0, "r2.a": 50.0, "r2.b": 60.0, "r2.c": 70.0}
    contributions = {
        "r1.a": {"F1": 10.0},
        **{k: {f"G{k}1": v / 3, f"G{k}2": v / 3, f"G{k}3": v / 3} for k, v in values.items() if k != "r1.a"},
    }
    cells = {_cell(*k.split(".")): HiddenCell(dict(c)) for k, c in contributions.items()}
    totals = {
        "r1.total": ("r1", "total"),
        "r2.total": ("r2", "total"),
        "all.a": ("all", "a"),
        "all.b": ("all", "b"),
        "all.c": ("all", "c"),
    }
    for row, column in totals.values():
        members = [c for c in cells if (c[2] == row if row != "all" else c[3] == column)]
        cells[_cell(row, column)] = HiddenCell(
            {f: v for m in members for f, v in cells[m].contributions.items()}
        )
    relation_list = [
        Relation(
            "row",
            (*((c, -1.0) for c in sorted(cells) if c[2] == r and c[3] != "total"), (_cell(r, "total"), 1.0)),
        )
        for r in ("r1", "r2")
    ] + [
        Relation(
            "column",
            (*((c, -1.0) for c in sorted(cells) if c[3] == col and c[2] != "all"), (_cell("all", col), 1.0)),
        )
        for col in ("a", "b", "c")
    ]
    target = _cell("r1", "a")
    plan = Plan(cells=cells, withheld={target: rules.THRESHOLD}, sensitive={target}, relations=relation_list)
    secondary_suppression(plan, PARAMS)
    assert set(plan.withheld) == {target, _cell("r1", "b"), _cell("r2", "a"), _cell("r2", "b")}
    assert plan.withheld[_cell("r1", "b")] == rules.SECONDARY
    unknown = sorted(plan.withheld)
    residual = {c: cell.residual for c, cell in cells.items()}
    low, high = interval(relation_list, unknown, residual, target)
    assert rules.is_protected(10.0, low, high, rules.protection_level([10.0], PARAMS))
    assert (low, high) == (pytest.approx(0.0), pytest.approx(50.0))  # r1.a + r1.b = 50; r1.a + r2.a = 60


def test_a_hidden_facility_is_an_attacker_too_it_knows_its_own_part_of_the_complement():
    """Months m1 (facility A alone) and m2 (facility B alone) of a published year: m1 + m2 is known,
    so B, knowing its own m2, would read A's m1 off it. The complement must hide something B does not
    know: here the third month m3, with contributions of A, C and D."""
    m1, m2, m3 = (("XX-TST", MONTH, f"2024-0{i}", "chemicals_kg") for i in (1, 2, 3))
    year = ("XX-TST", YEAR, "2024", "chemicals_kg")
    cells = {
        m1: HiddenCell({"A": 100.0}),
        m2: HiddenCell({"B": 500.0}),
        m3: HiddenCell({"A": 10.0, "C": 300.0, "D": 310.0}),
        year: HiddenCell({"A": 110.0, "B": 500.0, "C": 300.0, "D": 310.0}),
    }
    relation = Relation("months", ((m1, -1.0), (m2, -1.0), (m3, -1.0), (year, 1.0)))
    plan = Plan(
        cells=cells,
        withheld={m1: rules.THRESHOLD, m2: rules.THRESHOLD},
        sensitive={m1, m2},
        relations=[relation],
    )
    secondary_suppression(plan, PARAMS)
    # m1 and m2 shield each other from a reader outside, not from B or A: m3 (or the year) must go too
    assert m3 in plan.withheld or year in plan.withheld
