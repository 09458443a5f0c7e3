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
from expectations.observation_suite import check_observations_of_batch
from instep.reports_folder import update_reports
from instep.validate import row_state_counts, settle_staged_rows
from instep.validate.ledger import batch_outcome, file_names, ledger_row_problems, staged_submissions

GROUP = "validate"
VALIDATED_ROWS = keys.SUBMISSION_ROWS
OBSERVATIONS = keys.OBSERVATIONS
REJECTED_IN_BATCH = "rejected_rows_in_latest_batch"
# A batch naming at most this many facilities is recorded with the materialization of `observations`,
# for the observation check to judge with Great Expectations; a larger one (a rebuild: all of the
# warehouse) is judged by the suite's SQL alone, which judges every observation anyway.
BATCH_FACILITIES_LISTED = 1_000


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
        batch = staged_submissions(con)
        progress(context, f"validate: judging the rows of {len(batch)} submissions (Great Expectations)")
        summary = settle_staged_rows(con, settings.as_of)
        outcome = batch_outcome(con, batch, LISTED_ROWS)
    progress(
        context,
        f"validate: {summary.rows} rows: {summary.accepted} accepted, {summary.rejected} rejected, "
        f"{summary.superseded} superseded",
    )
    rejected_by_rule = outcome.rejected_by_rule
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
            **{f"seconds_{phase}": round(spent, 3) for phase, spent in summary.seconds.items()},
            "rows_total": outcome.rows_total,
            "rows_accepted_total": outcome.rows_accepted_total,
            "rows_rejected_total": outcome.rows_rejected_total,
            "rows_superseded_total": outcome.rows_superseded_total,
        },
    )
    facilities = list(summary.facilities)
    batch_scope: dict[str, object] = {"batch_facility_count": len(facilities)}
    if len(facilities) <= BATCH_FACILITIES_LISTED:
        batch_scope["batch_facilities"] = dg.MetadataValue.json(facilities)
    yield dg.MaterializeResult(
        asset_key=OBSERVATIONS,
        metadata={
            **batch_scope,
            "observations": outcome.observations,
            "facilities_reporting": outcome.facilities_reporting,
            "first_period": outcome.first_period or "",
            "last_period": outcome.last_period or "",
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
            "failed_rules_by_rule": dict(sorted(outcome.issues_by_rule.items())),
            "rejected_rows": markdown_table(["file", "line", "rule", "message"], outcome.rejected_rows),
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
        "One validation report per submission (reports/<facility>_<period>_<file>_<submission_id>.md): "
        "the verdict, the rules not met and every row to correct, in words the steward can send back to "
        "the factory; and the review queue (reports/index.md and index.html), every submission newest "
        "first, those with rejected rows or unreadable first, each with a link to its report."
    ),
)
@readable_failures
def submission_reports(context: dg.AssetExecutionContext, instep: Workspace) -> dg.MaterializeResult:
    settings = instep.settings()
    with instep.warehouse() as con:
        update = update_reports(con, settings.reports_dir, settings.archive_dir)
    reports = update.reports
    progress(
        context,
        f"reports: {len(reports)} submission reports in {settings.reports_dir}, "
        f"{len(update.written)} written now",
    )
    return dg.MaterializeResult(
        metadata={
            "reports": len(reports),
            "reports_written": len(update.written),
            "submissions_valid": sum(r.exit_code == 0 for r in reports),
            "submissions_with_rejected_rows": sum(r.exit_code == 1 for r in reports),
            "submissions_unreadable": sum(r.unreadable for r in reports),
            "written_reports": markdown_table(
                ["report", "file", "verdict"],
                [
                    [r.report_name, r.file_name, _verdict_word(r.exit_code)]
                    for r in update.written[:LISTED_ROWS]
                ],
            ),
            "reports_dir": dg.MetadataValue.path(str(settings.reports_dir)),
            "review_queue": dg.MetadataValue.path(str(update.queue)),
            "review_queue_html": dg.MetadataValue.path(str(update.queue.with_suffix(".html"))),
        }
    )


def _verdict_word(exit_code: int) -> str:
    return {0: "valid", 1: "rows rejected", 2: "file rejected"}[exit_code]


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
    with instep.warehouse(bounded=True) as con:
        per_file = row_state_counts(con).fetchall()
        problems = ledger_row_problems(con)
        names = file_names(con)
    files_off = [
        (sid, name, rows_read, accepted, rejected, superseded, accepted + rejected + superseded - rows_read)
        for sid, name, _status, rows_read, accepted, rejected, superseded in per_file
        if accepted + rejected + superseded != rows_read
    ]
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


def latest_batch_facilities(instance: dg.DagsterInstance) -> list[str] | None:
    """The facilities of the batch the latest settling recorded; None for a batch judged whole, an
    empty list when no batch is recorded (the invariants still judge every observation)."""
    event = instance.get_latest_materialization_event(OBSERVATIONS)
    if event is None or event.asset_materialization is None:
        return []
    metadata = event.asset_materialization.metadata
    if "batch_facilities" in metadata:
        return list(metadata["batch_facilities"].value)  # type: ignore[arg-type]
    return None if "batch_facility_count" in metadata else []


@dg.asset_check(
    asset=OBSERVATIONS,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description=(
        "Great Expectations observation suite on the accepted values of the latest batch (every "
        "observation of the facilities it touched, restated keys included), and the same suite as "
        "set-based SQL on every observation of the warehouse (a rebuild's batch is judged by the SQL "
        "alone): known facility in its park, canonical unit, between zero and the plausible monthly "
        "maximum, one value per key. Blocking."
    ),
)
@readable_failures
def observations_pass_suite(context: dg.AssetCheckExecutionContext, instep: Workspace) -> dg.AssetCheckResult:
    facilities = latest_batch_facilities(context.instance)
    scope = "every facility" if facilities is None else f"{len(facilities)} facilities"
    with instep.warehouse(bounded=True) as con:
        progress(
            context,
            f"check: the latest batch's observations ({scope}) against the observation suite (Great "
            "Expectations), every observation against its SQL",
        )
        found = check_observations_of_batch(con, facilities)
        names = file_names(con)
    failures = found.failures
    by_expectation: dict[str, int] = {}
    for failure in failures:
        by_expectation[failure.expectation] = by_expectation.get(failure.expectation, 0) + 1
    if failures:
        progress(context, f"check FAILED: {len(failures)} observation rows fail the observation suite")
    return dg.AssetCheckResult(
        passed=not failures,
        metadata={
            "observations_checked": found.warehouse_rows,
            "observations_of_batch_checked": found.batch_rows,
            "rows_failing": len({(f.submission_id, f.row_number) for f in failures}),
            "rows_failing_in_batch": len({(f.submission_id, f.row_number) for f in found.batch_failures}),
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
