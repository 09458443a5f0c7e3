"""Park scorecards from the rubric: pure functions over one park-year of published indicator values.

Indicator score: linear from floor (0) to target (100), clamped to 0..100; the same formula serves a
decreasing target (LTIFR 10 -> 1, change -10 %). Method `zero_if_any` (fatality-free): 0 when the value is
above zero, else 100. An indicator without a value, or whose topic's park totals are below the coverage
threshold, is n/a with a reason and left out of its pillar's mean. Only complete years are scored: a year to
date (or an ended year below the coverage threshold) shows its values, "not scored yet".
Pillar score = mean of its scored indicators; overall = mean of the pillar scores weighted by the pillar
weights, over the pillars with a score. Every row carries the rubric version and the GWP set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from instep.disclosure import rules as disclosure_rules
from instep.indicators.formulas import indicator_topics
from instep.metadata.model import insert_records, table_ddl
from instep.metadata.resources import (
    COVERAGE_THRESHOLD_PCT,
    MIN_PERSONS,
    resource,
    warehouse_fields,
)
from instep.rubric import RubricItem, load_rubric

NOT_SCORED_YET = "not scored yet"


def year_label(row: Mapping[str, Any]) -> str | None:
    """Why a park-year is not scored (None for a complete year): its status in words."""
    status = row["year_status"]
    if status == "complete":
        return None
    months = int(row.get("months_reported") or 0)
    if status == "year_to_date":
        return f"year to date, {months} of 12 months: scored once the year is complete"
    return (
        f"incomplete year: {months} of 12 months, facility-months with data below {COVERAGE_THRESHOLD_PCT} % "
        "of those expected"
    )


def low_coverage_reason(item_column: str, low_topics: set[str]) -> str | None:
    topics = sorted(low_topics.intersection(indicator_topics(item_column)))
    if not topics:
        return None
    return (
        f"coverage of {', '.join(topics)} below {COVERAGE_THRESHOLD_PCT} % of the expected "
        "facility-months (park_coverage)"
    )


PERSONS_REASON = f"withheld: fewer than {MIN_PERSONS} persons are behind the ratio"
WITHHELD_REASON = "withheld to protect facilities that do not publish their own figures: {reason}"


def withheld_reason(rule: str) -> str:
    """What a scorecard says of an indicator whose value disclosure control withheld."""
    if rule == disclosure_rules.PERSONS:
        return PERSONS_REASON
    return WITHHELD_REASON.format(reason=disclosure_rules.reason_text(rule))


def withheld_rules(row: Mapping[str, Any]) -> dict[str, str]:
    """column -> rule of the row's withheld cells (its `suppression_rules`); the persons rule first, as
    the most specific reason, else the first listed."""
    out: dict[str, str] = {}
    for column, rule in disclosure_rules.withheld_entries(row.get("suppression_rules")):
        if rule == disclosure_rules.PERSONS or column not in out:
            out[column] = rule
    return out


def linear_score(value: float, floor: float, target: float) -> float:
    """0 at the floor, 100 at the target, straight line between, clamped; works both ways round."""
    raw = 100.0 * (value - floor) / (target - floor)
    return min(100.0, max(0.0, raw))


def indicator_score(item: RubricItem, value: float | None) -> float | None:
    if value is None:
        return None
    if item.method == "zero_if_any":
        return 0.0 if value > 0 else 100.0
    assert item.floor is not None and item.target is not None
    return linear_score(value, item.floor, item.target)


def pillars(rubric: Iterable[RubricItem]) -> dict[str, list[RubricItem]]:
    out: dict[str, list[RubricItem]] = {}
    for item in rubric:
        out.setdefault(item.pillar, []).append(item)
    return out


def _value(row: Mapping[str, Any], column: str) -> float | None:
    value = row.get(column)
    if value is None or value != value:  # NaN from a data frame is missing too
        return None
    return float(value)


def score_park_year(
    row: Mapping[str, Any], rubric: tuple[RubricItem, ...], gwp_set: str
) -> list[dict[str, Any]]:
    """Scorecard rows (indicators, pillars, overall) of one park_annual row."""
    park_id, year = row["park_id"], int(row["year"])
    withheld = withheld_rules(row)
    # a year not complete shows its values, labelled, but no score: a part of a year is not a year
    not_yet = year_label(row)
    low_topics = set(filter(None, (row.get("low_coverage_topics") or "").split(";")))
    common = {
        "park_id": park_id,
        "year": year,
        "rubric_version": rubric[0].rubric_version,
        "gwp_set": gwp_set,
    }
    out: list[dict[str, Any]] = []
    pillar_scores: dict[str, tuple[float, float]] = {}
    for pillar, items in pillars(rubric).items():
        scores = []
        withheld_items = 0
        for item in items:
            value = _value(row, item.column)
            score = indicator_score(item, value)
            reason = None
            status = "scored"
            rule = withheld.get(item.column)
            withheld_items += bool(rule) and value is None
            if not_yet:
                score, status, reason = None, NOT_SCORED_YET, not_yet
                if rule and value is None:
                    reason += f"; its value is {withheld_reason(rule)}"
            elif rule and value is None:
                score, status, reason = None, "n/a", withheld_reason(rule)
            elif score is None:
                status = "n/a"
                reason = item.na_reason
            elif coverage := low_coverage_reason(item.column, low_topics):
                score, status, reason = None, "n/a", coverage
            else:
                scores.append(score)
            out.append(
                {
                    **common,
                    "pillar": pillar,
                    "component": item.indicator,
                    "label": item.label,
                    "value": value,
                    "unit": item.unit,
                    "floor": item.floor,
                    "target": item.target,
                    "weight": None,
                    "score": score,
                    "status": status,
                    "na_reason": reason,
                }
            )
        weight = items[0].pillar_weight
        pillar_score = sum(scores) / len(scores) if scores else None
        if pillar_score is not None:
            pillar_scores[pillar] = (pillar_score, weight)
        out.append(
            {
                **common,
                "pillar": pillar,
                "component": "pillar",
                "label": items[0].pillar_label,
                "value": None,
                "unit": "points",
                "floor": None,
                "target": None,
                "weight": weight,
                "score": pillar_score,
                "status": NOT_SCORED_YET if not_yet else "n/a" if pillar_score is None else "scored",
                "na_reason": not_yet
                or (
                    None
                    if scores
                    else WITHHELD_REASON.format(reason="every indicator of this pillar is withheld")
                    if withheld_items == len(items)
                    else "no indicator of this pillar has a value"
                ),
            }
        )
    total_weight = sum(weight for _, weight in pillar_scores.values())
    overall = (
        sum(score * weight for score, weight in pillar_scores.values()) / total_weight
        if total_weight
        else None
    )
    out.append(
        {
            **common,
            "pillar": "overall",
            "component": "overall",
            "label": "Overall",
            "value": None,
            "unit": "points",
            "floor": None,
            "target": None,
            "weight": total_weight,
            "score": overall,
            "status": NOT_SCORED_YET if not_yet else "n/a" if overall is None else "scored",
            "na_reason": not_yet or (None if overall is not None else "no pillar has a score"),
        }
    )
    return out


def scorecard_rows(
    park_years: Iterable[Mapping[str, Any]], rubric: tuple[RubricItem, ...], gwp_set: str
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in park_years:
        rows += score_park_year(row, rubric, gwp_set)
    return rows


def build_scorecards(con: duckdb.DuckDBPyConnection, rubric_version: int, gwp_set: str) -> int:
    """out_scorecards from the published park_annual (`pub_park_annual`, disclosure applied), so a
    withheld value is neither shown nor scored, and pillars and overall scores are means of published
    scores only."""
    rubric = load_rubric(rubric_version)
    order = ", ".join(f'"{key}"' for key in resource("park_annual").order)
    relation = con.execute(f"SELECT * FROM pub_park_annual ORDER BY {order}")
    columns = [d[0] for d in relation.description]
    park_years = [dict(zip(columns, values, strict=True)) for values in relation.fetchall()]
    rows = scorecard_rows(park_years, rubric, gwp_set)
    spec = resource("scorecards")
    con.execute(table_ddl("out_scorecards", warehouse_fields("scorecards"), spec.primary_key))
    insert_records(con, "out_scorecards", spec.fields, rows)
    return len(rows)
