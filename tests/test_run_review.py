"""A run that rejected rows looks like it: a warning on the settling check, the `instep/review` tag on
the run and "N rows rejected in M files: review" with the reports in the run's summary; a run with
nothing rejected stays plain green."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.review import REVIEW_SUBMISSIONS_TAG, REVIEW_TAG
from instep.ingest import file_sha256
from instep.settings import Settings
from pipelines.definitions import build_defs
from pipelines.runs import summarise

VALID = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,120000,kWh\n"
    "ET-HAW-F001,2024-01,water.recycled,10,m3\n"
)
# Two rows no facility of the registry could have sent, one month that does not exist.
WITH_REJECTED_ROWS = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-02,water.recycled,11,m3\n"
    "ET-HAW-F404,2024-02,water.recycled,11,m3\n"
    "ET-HAW-F001,2024-13,water.recycled,11,m3\n"
)
REJECTED_IN_BATCH = "rejected_rows_in_latest_batch"


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def sensor_run(workspace: Settings, instance: dg.DagsterInstance, name: str, text: str):
    """Drop a file into the inbox, let the sensor request its run, and run the sensor's job."""
    (workspace.inbox_dir / name).write_text(text, encoding="utf-8")
    defs = build_defs(workspace)
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with dg.build_sensor_context(
        instance=instance, definitions=defs, resources={"instep": defs.resources["instep"]}
    ) as context:
        requests = [
            r for r in sensor(context).run_requests if r.run_key == file_sha256(workspace.inbox_dir / name)
        ]
    assert len(requests) == 1
    job = defs.resolve_job_def(sensor.job_name)
    result = job.execute_in_process(
        run_config=requests[0].run_config, tags=requests[0].tags, instance=instance
    )
    assert result.success
    return result


def check_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == REJECTED_IN_BATCH]
    return evaluation


def submission_id(workspace: Settings, name: str) -> str:
    return "S-" + file_sha256(workspace.inbox_dir / name)[:16]


def test_a_file_with_rejected_rows_warns_on_the_check_the_run_and_the_summary(
    workspace: Settings, instance: dg.DagsterInstance
):
    result = sensor_run(workspace, instance, "beta-2024-02.csv", WITH_REJECTED_ROWS)

    evaluation = check_evaluation(result)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["rows_rejected"].value == 2

    sid = submission_id(workspace, "beta-2024-02.csv")
    tags = instance.get_run_by_id(result.run_id).tags
    assert tags[REVIEW_TAG] == "2 rows rejected in 1 file: review"
    assert tags[REVIEW_SUBMISSIONS_TAG] == sid

    summary = summarise("ingest_job", result, workspace, instance)
    (report,) = summary.review_reports
    assert sid in report and report.startswith(str(workspace.reports_dir))
    lines = summary.lines()
    assert "  2 rows rejected in 1 file: review:" in lines
    assert f"    {report}" in lines


def test_a_file_with_nothing_rejected_stays_plain_green(workspace: Settings, instance: dg.DagsterInstance):
    sensor_run(workspace, instance, "beta-2024-02.csv", WITH_REJECTED_ROWS)
    result = sensor_run(workspace, instance, "alpha-2024-01.csv", VALID)

    assert check_evaluation(result).passed  # only this run's file is judged, not the earlier one's rows
    assert REVIEW_TAG not in instance.get_run_by_id(result.run_id).tags
    summary = summarise("ingest_job", result, workspace, instance)
    assert summary.review is None and not any("review" in line for line in summary.lines())
