"""Running the Dagster jobs from the command line: the same definitions the steward's UI loads.

`instep run` and `instep release` call `execute_job` with a job name and the workspace's `Settings`; the
run is recorded in the workspace's Dagster instance (`pipelines.instance`), so `instep ui` shows it.
Progress lines from the assets go to the terminal, and `RunSummary` is what the command prints at the end.
An expected error (see `assets.common.EXPECTED_ERRORS`) ends the run as `ExpectedRunError`: one line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from assets import keys
from assets.common import ERROR_KIND
from assets.publish import release_package
from assets.review import REVIEW_FILES_TAG, REVIEW_SUBMISSIONS_TAG, REVIEW_TAG
from instep.review import report_paths
from instep.settings import Settings
from instep.warehouse import connect, run_lock
from pipelines.definitions import build_defs
from pipelines.instance import workspace_instance


class RunFailed(RuntimeError):
    """A job ended unsuccessfully; the message names the failed steps and checks."""


class ExpectedRunError(RunFailed):
    """A step ended with an expected error (its `kind`, see `assets.common.EXPECTED_ERRORS`): the message
    is the one line that says what happened and what to do."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class RunSummary:
    """What a run did, gathered from its materialisations and the warehouse."""

    job: str
    files: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_superseded: int = 0
    files_unreadable: int = 0
    release_version: str | None = None
    release_path: str | None = None
    site_path: str | None = None
    preview_path: str | None = None  # the preview's site, in the workspace
    materialized: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # errors that did not stop the run
    review: str | None = None  # "N rows rejected in M files: review", when the run rejected rows
    review_reports: list[str] = field(default_factory=list)
    review_files: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.job}: {len(self.materialized)} assets materialised"]
        if self.files or self.rows_read:
            out.append(
                f"  submissions: {self.files:,} files ({self.files_unreadable:,} unreadable), "
                f"{self.rows_read:,} rows: {self.rows_accepted:,} accepted, {self.rows_rejected:,} rejected, "
                f"{self.rows_superseded:,} superseded"
            )
        if self.review:
            out.append(f"  {self.review}:")
            out += [f"    {report}" for report in self.review_reports]
            if self.review_files > len(self.review_reports):
                out.append(
                    f"    ... and {self.review_files - len(self.review_reports):,} more in the reports folder"
                )
        if self.release_path:
            out.append(f"  release:     {self.release_version} in {self.release_path}")
        if self.site_path:
            out.append(f"  site:        {self.site_path} (instep serve to browse it)")
        if self.preview_path:
            out.append(
                f"  preview:     {self.preview_path} "
                f"(not published; instep serve --site-dir {self.preview_path})"
            )
        for check in self.failed_checks:
            out.append(
                f"  FAILED check: {check} (see its metadata in the run; `instep doctor` for the archive)"
            )
        return out


@contextmanager
def progress_shown() -> Iterator[None]:
    """Print the assets' progress lines (logger `instep.pipeline`) as plain lines while the block runs, on
    the standard error of the moment: a command run by Click's test runner writes them to its own
    captured stream, and nothing is left writing to it afterwards."""
    logger = logging.getLogger("instep.pipeline")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", datefmt="%H:%M:%S"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _quiet_dagster_logs(run_config: Mapping[str, Any]) -> dict[str, Any]:
    # Dagster's own event log would bury the progress lines; its warnings and errors still show.
    config = dict(run_config)
    config.setdefault("loggers", {"console": {"config": {"log_level": "WARNING"}}})
    return config


def _expected_error(result: dg.ExecuteInProcessResult) -> ExpectedRunError | None:
    for event in result.all_events:
        failure = event.step_failure_data if event.is_step_failure else None
        user_failure = failure.user_failure_data if failure else None
        kind = user_failure.metadata.get(ERROR_KIND) if user_failure else None
        if user_failure and kind is not None:
            return ExpectedRunError(user_failure.description or "", str(getattr(kind, "value", kind)))
    return None


def _failure_message(job: str, result: dg.ExecuteInProcessResult) -> str:
    failed_steps = [event.step_key for event in result.all_events if event.is_step_failure]
    failed_checks = [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    parts = [f"{job} failed"]
    if failed_steps:
        parts.append("failed steps: " + ", ".join(str(step) for step in failed_steps))
    if failed_checks:
        parts.append("blocking checks failed: " + ", ".join(failed_checks))
    # The error that stopped each step comes last, where a person reads first: Dagster wraps it in
    # its own "error occurred while executing" errors, so the innermost cause is the one to show.
    causes = [
        f"{event.step_key}: {_innermost_error(event.step_failure_data.error)}"
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error
    ]
    return "\n".join(["; ".join(parts), *causes])


def _innermost_error(error: Any) -> str:  # a Dagster SerializableErrorInfo
    while getattr(error, "cause", None) is not None:
        error = error.cause
    text = " ".join((error.message or "").split("\n")).strip()
    qualified, _, rest = text.partition(": ")
    if error.cls_name and rest and qualified.endswith(error.cls_name):
        text = f"{error.cls_name}: {rest}"  # the class without its module path
    return text or error.cls_name or "unknown error"


def _metadata_value(event: dg.AssetMaterialization, key: str) -> Any:
    entry = event.metadata.get(key)
    return None if entry is None else getattr(entry, "value", entry)


def summarise(
    job: str,
    result: dg.ExecuteInProcessResult,
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
) -> RunSummary:
    """What the run did; `instance` (the run's) for the tags its steps added, such as the review."""
    summary = RunSummary(job=job)
    run = instance.get_run_by_id(result.run_id) if instance is not None else None
    tags = run.tags if run is not None else result.dagster_run.tags
    if REVIEW_TAG in tags:
        summary.review = tags[REVIEW_TAG]
        submissions = tags.get(REVIEW_SUBMISSIONS_TAG, "").split()
        summary.review_reports = [str(path) for path in report_paths(settings.reports_dir, submissions)]
        summary.review_files = int(tags.get(REVIEW_FILES_TAG, len(submissions)))
    summary.failed_checks = [
        evaluation.check_name
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        summary.materialized.append(materialization.asset_key.to_user_string())
        if materialization.asset_key == keys.RELEASE_PACKAGE:
            summary.release_version = _metadata_value(materialization, "version")
            summary.release_path = _metadata_value(materialization, "release_path")
        elif materialization.asset_key == keys.TRANSPARENCY_SITE:
            summary.site_path = _metadata_value(materialization, "site_path")
        elif materialization.asset_key == keys.PREVIEW_SITE:
            summary.preview_path = _metadata_value(materialization, "site_path")
    if settings.warehouse_path.exists():
        with connect(settings, read_only=True) as con:
            files = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE status = 'unreadable'), coalesce(sum(rows_read), 0) "
                "FROM submission_files"
            ).fetchall()[0]
            states = dict(
                con.execute("SELECT state, count(*) FROM submission_rows GROUP BY state").fetchall()
            )
        summary.files, summary.files_unreadable, summary.rows_read = files
        summary.rows_accepted = states.get("accepted", 0)
        summary.rows_rejected = states.get("rejected", 0)
        summary.rows_superseded = states.get("superseded", 0)
    return summary


def execute_job(job: str, settings: Settings, run_config: Mapping[str, Any] | None = None) -> RunSummary:
    """Run one job of the code location in this process against `settings`' workspace."""
    with run_lock(settings), workspace_instance(settings) as instance:
        definition = build_defs(settings).resolve_job_def(job)
        result = definition.execute_in_process(
            run_config=_quiet_dagster_logs(run_config or {}), instance=instance, raise_on_error=False
        )
        if not result.success:
            raise _expected_error(result) or RunFailed(_failure_message(job, result))
        return summarise(job, result, settings, instance)


def release_run_config(version: str | None, release_date: str | None) -> dict[str, Any]:
    """Run configuration for the release asset; empty values leave its defaults."""
    config: dict[str, Any] = {}
    if version:
        config["version"] = version
    if release_date:
        config["release_date"] = release_date
    return {"ops": {release_package.op.name: {"config": config}}} if config else {}
