"""How much of each park total is there: expected and included facility-months per park, year and topic.

A facility is expected to report a topic in every month of the calendar year in which it is active
(registry active_from / active_to) when it reports that topic at all (an accepted or submitted row of the
topic in any month). A facility-month is inside the topic's totals when it has an accepted value of the
topic and none of the topic's inputs is missing (`missing_inputs` of out_facility_monthly). The topic
`all` counts facility-months with any accepted value against every active facility-month: it decides
whether a year is complete (`instep.indicators.park`). A total whose coverage is below
COVERAGE_THRESHOLD_PCT is flagged and not scored.
"""

from __future__ import annotations

import duckdb

from instep import reference
from instep.indicators.reference_tables import insert_rows
from instep.metadata.resources import COVERAGE_THRESHOLD_PCT

# Wastewater results are samples judged one by one, not monthly amounts summed into a park total.
NOT_MONTHLY_TOPICS = ("wastewater",)
ALL_TOPICS = "all"

# The topics each facility reports at all, in any month (computed apart: an incremental build reads every
# month of a facility for these and only the affected years for the rest).
REPORTED_TOPICS_SQL = f"""
CREATE OR REPLACE TEMP TABLE ind_reported_topics AS
SELECT DISTINCT facility_id, topic FROM observations
UNION
SELECT DISTINCT trim(r.facility_id), t.topic
FROM submission_rows AS r JOIN ref_metric_topics AS t ON t.metric = trim(r.metric)
UNION
SELECT facility_id, '{ALL_TOPICS}' FROM facilities
"""

PARK_COVERAGE_SQL = f"""
INSERT INTO out_park_coverage BY NAME
WITH years AS (SELECT year FROM ind_years),
months AS (
    SELECT y.year, make_date(y.year, CAST(i.range AS INTEGER) + 1, 1) AS month_start
    FROM years AS y CROSS JOIN range(12) AS i
),
reports_topic AS (SELECT facility_id, topic FROM ind_reported_topics),
expected AS (
    SELECT f.facility_id, f.park_id, m.year, strftime(m.month_start, '%Y-%m') AS period, t.topic
    FROM facilities AS f
    JOIN months AS m
      ON f.active_from <= last_day(m.month_start) AND (f.active_to IS NULL OR f.active_to >= m.month_start)
    JOIN reports_topic AS t ON t.facility_id = f.facility_id
    WHERE t.topic NOT IN ({", ".join(f"'{t}'" for t in NOT_MONTHLY_TOPICS)})
),
reported AS (
    SELECT DISTINCT facility_id, period, topic FROM observations
    UNION
    SELECT DISTINCT facility_id, period, '{ALL_TOPICS}' FROM observations
),
missing AS (
    SELECT DISTINCT x.facility_id, x.period, t.topic
    FROM (
        SELECT facility_id, period, split_part(unnest(string_split(missing_inputs, ';')), ' ', 1) AS metric
        FROM out_facility_monthly WHERE missing_inputs IS NOT NULL
    ) AS x JOIN ref_metric_topics AS t USING (metric)
),
judged AS (
    SELECT e.park_id, e.year, e.topic,
        r.facility_id IS NOT NULL AND mi.facility_id IS NULL AS included
    FROM expected AS e
    LEFT JOIN reported AS r USING (facility_id, period, topic)
    LEFT JOIN missing AS mi USING (facility_id, period, topic)
)
SELECT park_id, year, topic,
    count(*) AS facility_months_expected,
    count(*) FILTER (WHERE included) AS facility_months_included,
    100.0 * count(*) FILTER (WHERE included) / count(*) AS coverage_pct,
    100.0 * count(*) FILTER (WHERE included) / count(*) < {COVERAGE_THRESHOLD_PCT} AS below_threshold
FROM judged GROUP BY park_id, year, topic
"""


def register_metric_topics(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE ref_metric_topics (metric VARCHAR PRIMARY KEY, topic VARCHAR)")
    insert_rows(
        con, "ref_metric_topics", [[code, m.topic] for code, m in sorted(reference.metrics().items())]
    )


def build_park_coverage(con: duckdb.DuckDBPyConnection) -> None:
    """Needs out_facility_monthly, `ind_years` (instep.indicators.coverage) and `ref_metric_topics`."""
    from instep.indicators.facility import create_out_table

    create_out_table(con, "park_coverage")
    con.execute(REPORTED_TOPICS_SQL)
    con.execute(PARK_COVERAGE_SQL)
