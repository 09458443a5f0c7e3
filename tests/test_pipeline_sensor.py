"""The inbox sensor: one run request per new file, keyed by content hash, nothing twice."""

from __future__ import annotations

import hashlib
import json
import os

import dagster as dg
import pytest

from assets import keys
from assets.ingest import raw_submission_files
from instep.settings import Settings
from pipelines.definitions import build_defs

FILE_A = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,120000,kWh\n"
    "ET-HAW-F001,2024-01,water.recycled,10,m3\n"
)
FILE_B = "facility_id,period,metric,value,unit\nVN-TST-F001,2024-02,water.recycled,12,m3\n"


def evaluate(defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("inbox_sensor")
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources={"instep": defs.resources["instep"]}
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


@pytest.fixture
def instance() -> dg.DagsterInstance:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def test_new_file_gives_one_run_request_and_a_second_evaluation_none(
    workspace: Settings, instance: dg.DagsterInstance
):
    defs = build_defs(workspace)
    first = evaluate(defs, instance, None)
    assert not first.run_requests
    assert first.skip_reason

    (workspace.inbox_dir / "alpha-2024-01.csv").write_text(FILE_A, encoding="utf-8")
    second = evaluate(defs, instance, first.cursor)
    assert len(second.run_requests) == 1
    request = second.run_requests[0]
    assert request.run_key == hashlib.sha256(FILE_A.encode()).hexdigest()
    assert request.run_config["ops"][raw_submission_files.op.name]["config"]["files"] == ["alpha-2024-01.csv"]
    assert request.tags["instep/file"] == "alpha-2024-01.csv"

    third = evaluate(defs, instance, second.cursor)
    assert not third.run_requests
    assert third.cursor == second.cursor


def test_only_files_not_yet_in_the_ledger_are_requested(workspace: Settings, instance: dg.DagsterInstance):
    defs = build_defs(workspace)
    (workspace.inbox_dir / "alpha-2024-01.csv").write_text(FILE_A, encoding="utf-8")
    assert defs.resolve_job_def("ingest_job").execute_in_process(instance=instance).success

    # A fresh cursor sees the ingested file, a copy of it under another name, and one new file.
    (workspace.inbox_dir / "alpha-copy.csv").write_text(FILE_A, encoding="utf-8")
    (workspace.inbox_dir / "gamma-2024-02.csv").write_text(FILE_B, encoding="utf-8")
    result = evaluate(defs, instance, None)
    assert [r.run_key for r in result.run_requests] == [hashlib.sha256(FILE_B.encode()).hexdigest()]

    # The same name with new content (a corrected file) is a new submission.
    corrected = FILE_A.replace("120000", "125000")
    path = workspace.inbox_dir / "alpha-2024-01.csv"
    path.write_text(corrected, encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    later = evaluate(defs, instance, result.cursor)
    assert [r.run_key for r in later.run_requests] == [hashlib.sha256(corrected.encode()).hexdigest()]
    assert json.loads(later.cursor).keys() == {"alpha-2024-01.csv", "alpha-copy.csv", "gamma-2024-02.csv"}


def test_run_requested_by_the_sensor_ingests_only_its_file(workspace: Settings, instance: dg.DagsterInstance):
    defs = build_defs(workspace)
    (workspace.inbox_dir / "alpha-2024-01.csv").write_text(FILE_A, encoding="utf-8")
    (workspace.inbox_dir / "gamma-2024-02.csv").write_text(FILE_B, encoding="utf-8")
    requests = evaluate(defs, instance, None).run_requests
    assert len(requests) == 2

    result = defs.resolve_job_def("ingest_job").execute_in_process(
        run_config=requests[0].run_config, instance=instance
    )
    staged = result.asset_materializations_for_node(raw_submission_files.op.name)[0].metadata
    assert staged["files_new"].value == 1
    assert staged["rows_read"].value == 2
    settled = result.asset_materializations_for_node("settle_submission_rows")
    rows = {m.asset_key: m.metadata for m in settled}
    assert rows[keys.SUBMISSION_ROWS]["rows_accepted"].value == 2
    assert rows[keys.OBSERVATIONS]["observations"].value == 2
