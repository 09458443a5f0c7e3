"""Parts never exceed their wholes: the metric relations of `instep/reference/metric_relations.csv` as
expectations of the submission suite.

Every relation is judged per facility-month on the value each metric will have once the batch is settled:
the row's own value, else the latest row of the batch for that metric (a later file restates an earlier
one), else the value already accepted in the warehouse. So a pair is caught within a file, across the
files of a batch and against what was accepted before. Each row of a relation's metrics carries the part
and the whole of its facility-month (`rel_<relation>_part`, `rel_<relation>_whole`); a row where the part
is larger is rejected with `part_exceeds_whole`, both the part's and the whole's rows of the batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from expectations.messages import message, sql_text
from instep import reference

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

RULE = "part_exceeds_whole"


def _part(relation: reference.MetricRelation) -> str:
    return f"rel_{relation.relation}_part"


def _whole(relation: reference.MetricRelation) -> str:
    return f"rel_{relation.relation}_whole"


def _metrics_sql(metrics: tuple[str, ...]) -> str:
    return ", ".join(f"'{m}'" for m in metrics)


def _value_of(metric: str) -> str:
    """The facility-month value of `metric` seen from a prepared row `p`."""
    return (
        f"CASE WHEN p.metric = '{metric}' THEN p.value_canonical "
        f'ELSE coalesce(b."{metric}", a."{metric}") END'
    )


def relation_columns_sql(prepared: str, with_accepted: bool) -> str:
    """The prepared rows with the part and whole of every relation on the rows of its metrics."""
    relations = reference.metric_relations()
    metrics = sorted({m for r in relations for m in r.metrics})
    pivot = ", ".join(f"max(v) FILTER (WHERE metric = '{m}') AS \"{m}\"" for m in metrics)
    accepted = (
        f"""SELECT facility_id, period, {pivot} FROM (
            SELECT facility_id, period, metric, value AS v FROM observations
            WHERE metric IN ({_metrics_sql(tuple(metrics))})
              -- the facilities of the batch only: the pivot is joined to its rows
              AND facility_id IN (SELECT facility_id FROM {prepared})
        ) GROUP BY facility_id, period"""
        if with_accepted
        else "SELECT NULL::VARCHAR AS facility_id, NULL::VARCHAR AS period, "
        + ", ".join(f'NULL::DOUBLE AS "{m}"' for m in metrics)
        + " WHERE false"
    )
    columns = []
    for r in relations:
        applies = f"p.metric IN ({_metrics_sql(r.metrics)})"
        whole = " + ".join(f"({_value_of(m)})" for m in r.whole)
        columns.append(f"CASE WHEN {applies} THEN {_value_of(r.part)} END AS {_part(r)}")
        columns.append(f"CASE WHEN {applies} THEN {whole} END AS {_whole(r)}")
    return f"""
WITH batch AS (
    SELECT facility_id, period, {pivot} FROM (
        -- the last row of the batch for a metric is the one that will stand
        SELECT facility_id, period, metric, max_by(value_canonical, [file_seq, row_number]) AS v
        FROM {prepared}
        WHERE metric IN ({_metrics_sql(tuple(metrics))}) AND value_canonical IS NOT NULL
        GROUP BY facility_id, period, metric
    ) GROUP BY facility_id, period
),
accepted AS ({accepted})
SELECT p.*, {", ".join(columns)}
FROM {prepared} AS p
LEFT JOIN batch AS b ON b.facility_id = p.facility_id AND b.period = p.period
LEFT JOIN accepted AS a ON a.facility_id = p.facility_id AND a.period = p.period
"""


def add_relation_columns(con: duckdb.DuckDBPyConnection, prepared: str) -> None:
    """Replace the prepared-rows table `prepared` by itself with the relation columns."""
    with_accepted = bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'observations'"
        ).fetchall()[0][0]
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _v_relations AS {relation_columns_sql(prepared, with_accepted)}"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {prepared} AS SELECT * FROM _v_relations")
    con.execute("DROP TABLE _v_relations")


def relation_expectations() -> list[gxe.Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=_whole(r),
            column_B=_part(r),
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta={"rule": RULE, "column": "value", "relation": r.relation},
        )
        for r in reference.metric_relations()
    ]


def relation_message_sql() -> str:
    """SQL over a prepared row `p`: every relation it breaks, naming both metrics, both values and why."""
    catalogue = reference.metrics()
    template = message("part_exceeds_whole.relation")
    parts = [
        f"CASE WHEN p.{_part(r)} > p.{_whole(r)} THEN "
        + template.sql(
            part=sql_text(r.part),
            part_value=f"round(p.{_part(r)}, 3)",
            unit=sql_text(catalogue[r.part].canonical_unit),
            whole=sql_text(" + ".join(r.whole)),
            whole_value=f"round(p.{_whole(r)}, 3)",
            facility_id="p.facility_id",
            period="p.period",
            relation=sql_text(r.relation),
            explanation=sql_text(r.rule),
        )
        + " END"
        for r in reference.metric_relations()
    ]
    return f"nullif(concat_ws('; ', {', '.join(parts)}), '')"


def relation_expected_sql() -> str:
    """SQL over a prepared row `p`: what the relation it breaks expected."""
    catalogue = reference.metrics()
    template = message("part_exceeds_whole.expected")
    parts = [
        f"CASE WHEN p.{_part(r)} > p.{_whole(r)} THEN "
        + template.sql(
            part=sql_text(r.part),
            whole=sql_text(" + ".join(r.whole)),
            whole_value=f"round(p.{_whole(r)}, 3)",
            unit=sql_text(catalogue[r.part].canonical_unit),
        )
        + " END"
        for r in reference.metric_relations()
    ]
    return f"nullif(concat_ws('; ', {', '.join(parts)}), '')"
