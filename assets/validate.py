"""Validate: every staged row judged by the submission suite and settled in exactly one state.

The guards live here too: a non-blocking check that reports the rows the submission suite rejected in the
latest batch, and two blocking checks on the warehouse (row states add up; accepted observations pass the
observation suite). When a blocking check fails, nothing downstream is computed from the warehouse.
"""

import dagster as dg

from assets import keys
from assets.common import (
    DATA_ENGINEERING,
    DATA_STEWARDS,
    LISTED_ROWS,
    WAREHOUSE_POOL,
    markdown_table,
    progress,
    readable_failures,
)
from assets.resources import Workspace
from assets.review import flags_review
from expectations import rule as rule_definition
from expectations.observation_suite import check_observations
from instep.ingest import row_state_counts, settle_staged_rows
from instep.report import verdicts_from_warehouse, write_reports

GROUP = "validate"
VALIDATED_ROWS = keys.SUBMISSION_ROWS
OBSERVATIONS = keys.OBSERVATIONS
REJECTED_IN_BATCH = "rejected_rows_in_latest_batch"


@dg.multi_asset(
    name="settle_submission_rows",
    group_name=GROUP,
    pool=WAREHOUSE_POOL,
    specs=[
        dg.AssetSpec(
            VALIDATED_ROWS,
            deps=[keys.SUBMISSION_FILES],
            kinds={"duckdb", "great_expectations"},
            owners=[DATA_ENGINEERING],
            description=(
                "Every submitted row in exactly one state (`submission_rows`): accepted, rejected with the "
                "first failed rule and a message (all failed rules in `row_issues`), or superseded by a "
                "later restatement. Judged by the Great Expectations submission suite in `expectations/`."
            ),
        ),
        dg.AssetSpec(
            OBSERVATIONS,
            deps=[VALIDATED_ROWS],
            kinds={"duckdb"},
            owners=[DATA_ENGINEERING],
            description=(
                "Accepted values in canonical units (`observations`), one per facility, period, metric "
                "and sample, each traceable to its submission and row."
            ),
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            REJECTED_IN_BATCH,
            asset=VALIDATED_ROWS,
            description=(
                "Great Expectations submission suite on the rows settled in this run: rows rejected, by "
                "rule. A warning for the steward (reports go back to the factories); it blocks nothing."
            ),
        )
    ],
)
@readable_failures
@flags_review
def settle_submission_rows(context: dg.AssetExecutionContext, instep: Workspace):
    settings = instep.settings()
    with instep.warehouse() as con:
        batch = [row[0] for row in con.execute("SELECT DISTINCT submission_id FROM staged_rows").fetchall()]
        progress(context, f"validate: judging the rows of {len(batch)} submissions (Great Expectations)")
        summary = settle_staged_rows(con, settings.as_of)
        rejected_by_rule = dict(
            con.execute(
                "SELECT rule, count(*) FROM submission_rows WHERE state = 'rejected' "
                "AND submission_id IN (SELECT unnest(?)) GROUP BY rule",
                [batch],
            ).fetchall()
        )
        issues_by_rule = dict(
            con.execute(
                "SELECT rule, count(*) FROM row_issues "
                "WHERE submission_id IN (SELECT unnest(?)) GROUP BY rule",
                [batch],
            ).fetchall()
        )
        listed = con.execute(
            """
            SELECT f.original_name, r.row_number + 1 AS line, r.rule, r.message
            FROM submission_rows AS r JOIN submission_files AS f USING (submission_id)
            WHERE r.state = 'rejected' AND r.submission_id IN (SELECT unnest(?))
            ORDER BY f.file_seq, r.row_number LIMIT ?
            """,
            [batch, LISTED_ROWS],
        ).fetchall()
        totals = con.execute(
            "SELECT count(*) FILTER (WHERE state = 'accepted'), count(*) FILTER (WHERE state = 'rejected'), "
            "count(*) FILTER (WHERE state = 'superseded'), count(*) FROM submission_rows"
        ).fetchall()[0]
        observations = con.execute(
            "SELECT count(*), count(DISTINCT facility_id), min(period), max(period) FROM observations"
        ).fetchall()[0]
    progress(
        context,
        f"validate: {summary.rows} rows: {summary.accepted} accepted, {summary.rejected} rejected, "
        f"{summary.superseded} superseded",
    )
    ordered_rules = sorted(rejected_by_rule, key=lambda r: rule_definition(r).order)
    yield dg.MaterializeResult(
        asset_key=VALIDATED_ROWS,
        metadata={
            "submissions_in_batch": len(batch),
            "rows_read": summary.rows,
            "rows_accepted": summary.accepted,
            "rows_rejected": summary.rejected,
            "rows_superseded": summary.superseded,
            "rule_failures": summary.issues,
            "rows_total": totals[3],
            "rows_accepted_total": totals[0],
            "rows_rejected_total": totals[1],
            "rows_superseded_total": totals[2],
        },
    )
    yield dg.MaterializeResult(
        asset_key=OBSERVATIONS,
        metadata={
            "observations": observations[0],
            "facilities_reporting": observations[1],
            "first_period": observations[2] or "",
            "last_period": observations[3] or "",
        },
    )
    rejected = sum(rejected_by_rule.values())
    yield dg.AssetCheckResult(
        check_name=REJECTED_IN_BATCH,
        asset_key=VALIDATED_ROWS,
        passed=rejected == 0,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{rejected} of {summary.rows} rows of this batch rejected by the submission suite",
        metadata={
            "rows_checked": summary.rows,
            "rows_rejected": rejected,
            "rejected_rows_by_rule": {rule: rejected_by_rule[rule] for rule in ordered_rules},
            "failed_rules_by_rule": dict(sorted(issues_by_rule.items())),
            "rejected_rows": markdown_table(["file", "line", "rule", "message"], listed),
        },
    )


@dg.asset(
    key=keys.SUBMISSION_REPORTS,
    group_name=GROUP,
    deps=[VALIDATED_ROWS],
    kinds={"markdown"},
    owners=[DATA_STEWARDS],
    pool=WAREHOUSE_POOL,
    description=(
        "One validation report per submission (reports/<submission_id>.md): the verdict, the rules not "
        "met and every row to correct, in words the steward can send back to the factory."
    ),
)
@readable_failures
def submission_reports(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    with instep.warehouse() as con:
        verdicts = verdicts_from_warehouse(con)
    new = [v for v in verdicts if not (settings.reports_dir / f"{v.submission_id}.md").exists()]
    write_reports(verdicts, settings.reports_dir)
    progress(context, f"reports: {len(verdicts)} submission reports in {settings.reports_dir}")
    return dg.MaterializeResult(
        metadata={
            "reports": len(verdicts),
            "reports_new": len(new),
            "submissions_valid": sum(v.valid for v in verdicts),
            "submissions_with_rejected_rows": sum(bool(v.issues) for v in verdicts),
            "submissions_unreadable": sum(v.unreadable for v in verdicts),
            "new_reports": markdown_table(
                ["report", "file", "verdict"],
                [
                    [f"{v.submission_id}.md", v.file_name, _verdict_word(v.exit_code)]
                    for v in new[:LISTED_ROWS]
                ],
            ),
            "reports_dir": dg.MetadataValue.path(str(settings.reports_dir)),
        }
    )


def _verdict_word(exit_code: int) -> str:
    return {0: "valid", 1: "rows rejected", 2: "file rejected"}[exit_code]


# Row-level invariants of the ledger: each query lists rows that break one, with what is wrong.
LEDGER_ROW_PROBLEMS = {
    "accepted row without its observation": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        LEFT JOIN observations AS o USING (submission_id, row_number)
        WHERE r.state = 'accepted' AND o.submission_id IS NULL""",
    "observation without an accepted row": """
        SELECT o.submission_id, o.row_number FROM observations AS o
        LEFT JOIN submission_rows AS r USING (submission_id, row_number)
        WHERE r.state IS DISTINCT FROM 'accepted'""",
    "rejected row without a rule, message or recorded issue": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        WHERE r.state = 'rejected' AND (r.rule IS NULL OR r.message IS NULL OR NOT EXISTS (
            SELECT 1 FROM row_issues AS i
            WHERE i.submission_id = r.submission_id AND i.row_number = r.row_number AND i.rule = r.rule))""",
    "superseded row without the submission that restated it": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        WHERE r.state = 'superseded' AND (r.superseded_by IS NULL
            OR r.superseded_by NOT IN (SELECT submission_id FROM submission_files))""",
    "row of a file that is not in submission_files or was rejected as a whole": """
        SELECT r.submission_id, r.row_number FROM submission_rows AS r
        LEFT JOIN submission_files AS f USING (submission_id)
        WHERE f.submission_id IS NULL OR f.status <> 'ingested'""",
    "row still waiting for validation (staged, in no state)": """
        SELECT submission_id, row_number FROM staged_rows""",
}


@dg.asset_check(
    asset=VALIDATED_ROWS,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description=(
        "Every row read is in exactly one state and the states add up to the rows read, per file; accepted "
        "rows and observations match one to one; rejected rows carry their rule, superseded rows their "
        "restatement. Blocking: nothing is computed from an inconsistent ledger."
    ),
)
@readable_failures
def row_states_add_up(context: dg.AssetCheckExecutionContext, instep: Workspace) -> dg.AssetCheckResult:
    with instep.warehouse() as con:
        per_file = row_state_counts(con).fetchall()
        problems: list[tuple[str, int, str]] = []
        for problem, sql in LEDGER_ROW_PROBLEMS.items():
            problems += [(sid, row, problem) for sid, row in con.execute(sql).fetchall()]
        names = dict(con.execute("SELECT submission_id, original_name FROM submission_files").fetchall())
    files_off = [
        (sid, name, rows_read, accepted, rejected, superseded, accepted + rejected + superseded - rows_read)
        for sid, name, _status, rows_read, accepted, rejected, superseded in per_file
        if accepted + rejected + superseded != rows_read
    ]
    problems.sort()
    passed = not files_off and not problems
    progress(
        context,
        "check: row states add up"
        if passed
        else f"check FAILED: row states do not add up in {len(files_off)} files; {len(problems)} rows wrong",
    )
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "files_checked": len(per_file),
            "rows_read": sum(row[3] for row in per_file),
            "files_not_adding_up": len(files_off),
            "rows_failing": len(problems),
            "failing_files": markdown_table(
                ["submission", "file", "rows read", "accepted", "rejected", "superseded", "difference"],
                files_off[:LISTED_ROWS],
            ),
            "failing_rows": markdown_table(
                ["submission", "file", "line", "problem"],
                [
                    (sid, names.get(sid, "?"), row + 1, problem)
                    for sid, row, problem in problems[:LISTED_ROWS]
                ],
            ),
            "failing_rows_json": [
                {"submission_id": sid, "row_number": row, "problem": problem}
                for sid, row, problem in problems[:LISTED_ROWS]
            ],
        },
    )


@dg.asset_check(
    asset=OBSERVATIONS,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description=(
        "Great Expectations observation suite on all accepted values: known facility in its park, canonical "
        "unit, between zero and the plausible monthly maximum, one value per key. Blocking."
    ),
)
@readable_failures
def observations_pass_suite(context: dg.AssetCheckExecutionContext, instep: Workspace) -> dg.AssetCheckResult:
    with instep.warehouse() as con:
        progress(context, "check: accepted observations against the observation suite (Great Expectations)")
        checked, failures = check_observations(con)
        names = dict(con.execute("SELECT submission_id, original_name FROM submission_files").fetchall())
    by_expectation: dict[str, int] = {}
    for failure in failures:
        by_expectation[failure.expectation] = by_expectation.get(failure.expectation, 0) + 1
    if failures:
        progress(context, f"check FAILED: {len(failures)} observation rows fail the observation suite")
    return dg.AssetCheckResult(
        passed=not failures,
        metadata={
            "observations_checked": checked,
            "rows_failing": len({(f.submission_id, f.row_number) for f in failures}),
            "failures_by_expectation": by_expectation,
            "failing_rows": markdown_table(
                ["submission", "file", "line", "expectation", "expected"],
                [
                    (
                        f.submission_id,
                        names.get(f.submission_id, "?"),
                        f.row_number + 1,
                        f.expectation,
                        f.expected,
                    )
                    for f in failures[:LISTED_ROWS]
                ],
            ),
            "failing_rows_json": [
                {"submission_id": f.submission_id, "row_number": f.row_number, "expectation": f.expectation}
                for f in failures[:LISTED_ROWS]
            ],
        },
    )
