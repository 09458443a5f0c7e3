"""Asset checks: GX results reported per batch; blocking warehouse checks stop everything downstream."""

from __future__ import annotations

import dagster as dg
import pytest

from assets import keys
from instep.settings import Settings
from instep.validate.ledger import (
    ACCEPTED_WITHOUT_OBSERVATION,
    OBSERVATION_WITHOUT_ACCEPTED,
    ledger_row_problems,
)
from instep.warehouse import connect
from pipelines.definitions import build_defs

# Three rows: the first two accepted, the third rejected (unknown facility).
FILE_A = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,120,MWh\n"
    "ET-HAW-F001,2024-01,water.recycled,10,m3\n"
    "ET-HAW-F009,2024-01,water.recycled,10,m3\n"
)
UPSTREAM_OF_CHECKS = {keys.REGISTRY, keys.SUBMISSION_FILES, keys.SUBMISSION_ROWS, keys.OBSERVATIONS}


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


def evaluation(result: dg.ExecuteInProcessResult, check_name: str) -> dg.AssetCheckEvaluation:
    (found,) = [e for e in result.get_asset_check_evaluations() if e.check_name == check_name]
    return found


@pytest.fixture
def ingested(workspace: Settings) -> tuple[Settings, dg.Definitions, str]:
    (workspace.inbox_dir / "alpha.csv").write_text(FILE_A, encoding="utf-8")
    defs = build_defs(workspace)
    result = defs.resolve_job_def("ingest_job").execute_in_process()
    assert result.success
    with connect(workspace) as con:
        (submission_id,) = con.execute("SELECT submission_id FROM submission_files").fetchall()[0]
    return workspace, defs, submission_id


def test_rejected_rows_of_the_batch_are_reported_by_rule_without_blocking(workspace: Settings):
    (workspace.inbox_dir / "alpha.csv").write_text(FILE_A, encoding="utf-8")
    result = build_defs(workspace).resolve_job_def("ingest_job").execute_in_process()
    assert result.success
    check = evaluation(result, "rejected_rows_in_latest_batch")
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["rows_checked"].value == 3
    assert check.metadata["rows_rejected"].value == 1
    assert check.metadata["rejected_rows_by_rule"].value == {"unknown_facility": 1}
    assert "| alpha.csv | 4 | unknown_facility |" in check.metadata["rejected_rows"].value
    assert evaluation(result, "row_states_add_up").passed
    assert evaluation(result, "observations_pass_suite").passed
    assert keys.SUBMISSION_REPORTS in materialized(result)


def test_counts_not_adding_up_block_downstream_and_name_the_row(ingested):
    settings, defs, submission_id = ingested
    with connect(settings) as con:
        con.execute("DELETE FROM submission_rows WHERE submission_id = ? AND row_number = 2", [submission_id])

    result = defs.resolve_job_def("main_job").execute_in_process(raise_on_error=False)

    assert not result.success
    check = evaluation(result, "row_states_add_up")
    assert not check.passed
    assert check.metadata["files_not_adding_up"].value == 1
    assert f"| {submission_id} | alpha.csv | 3 | 1 | 1 | 0 | -1 |" in check.metadata["failing_files"].value
    assert check.metadata["failing_rows_json"].value == [
        {"submission_id": submission_id, "row_number": 2, "problem": "observation without an accepted row"}
    ]
    assert materialized(result) == UPSTREAM_OF_CHECKS


def test_accepted_rows_and_observations_missing_either_half_are_named(ingested):
    settings, _defs, submission_id = ingested
    with connect(settings) as con:
        assert ledger_row_problems(con) == []
        # rows 1 and 2 (the file's lines 2 and 3) were accepted
        con.execute("DELETE FROM observations WHERE submission_id = ? AND row_number = 1", [submission_id])
        con.execute("DELETE FROM submission_rows WHERE submission_id = ? AND row_number = 2", [submission_id])
        problems = ledger_row_problems(con)
    assert problems == [
        (submission_id, 1, ACCEPTED_WITHOUT_OBSERVATION),
        (submission_id, 2, OBSERVATION_WITHOUT_ACCEPTED),
    ]


def test_observation_outside_the_suite_blocks_downstream_and_names_the_row(ingested):
    settings, defs, submission_id = ingested
    with connect(settings) as con:
        # A value left in the submitted unit (MWh instead of the canonical kWh).
        con.execute(
            "UPDATE observations SET unit = 'MWh', value = 120 WHERE submission_id = ? AND row_number = 1",
            [submission_id],
        )

    result = defs.resolve_job_def("main_job").execute_in_process(raise_on_error=False)

    assert not result.success
    check = evaluation(result, "observations_pass_suite")
    assert not check.passed
    assert check.metadata["failures_by_expectation"].value == {"unit_not_canonical": 1}
    assert check.metadata["failing_rows_json"].value == [
        {"submission_id": submission_id, "row_number": 1, "expectation": "unit_not_canonical"}
    ]
    assert "| alpha.csv | 2 | unit_not_canonical |" in check.metadata["failing_rows"].value
    assert evaluation(result, "row_states_add_up").passed
    assert not materialized(result) - UPSTREAM_OF_CHECKS - {keys.SUBMISSION_REPORTS}


def test_an_observation_that_is_not_a_finite_number_fails_the_suite(workspace: Settings):
    # The ledger's DOUBLE column is NOT NULL, but it holds NaN and infinities; settling never writes them
    # (the preparation keeps only finite numbers), so one found here was written by something else.
    from expectations.observation_suite import check_observations
    from tests.test_ingest import GOOD_ROWS, HEADER, ingest

    (workspace.inbox_dir / "good.csv").write_text(HEADER + "".join(r + "\n" for r in GOOD_ROWS), "utf-8")
    ingest(workspace)
    with connect(workspace) as con:
        (submission_id,) = con.execute("SELECT DISTINCT submission_id FROM observations").fetchall()[0]
        checked, failures = check_observations(con)
        assert (checked, failures) == (len(GOOD_ROWS), [])
        con.execute("UPDATE observations SET value = 'NaN'::DOUBLE WHERE row_number = 1")
        con.execute("UPDATE observations SET value = 'Infinity'::DOUBLE WHERE row_number = 2")
        _, failures = check_observations(con)
    not_finite = [(f.submission_id, f.row_number) for f in failures if f.expectation == "value_not_finite"]
    assert not_finite == [(submission_id, 1), (submission_id, 2)]


def test_a_missing_archive_copy_is_reported_by_every_run_and_doctor_finds_an_altered_one(ingested):
    import os

    from click.testing import CliRunner

    from instep.cli import main

    settings, defs, submission_id = ingested
    with connect(settings) as con:
        (archived,) = con.execute("SELECT archived_path FROM submission_files").fetchall()[0]
    copy = settings.archive_dir / archived
    env = {"INSTEP_WORKSPACE": str(settings.workspace)}
    assert CliRunner().invoke(main, ["doctor"], env=env).exit_code == 0

    os.chmod(copy, 0o644)
    copy.write_bytes(copy.read_bytes() + b"changed on disk\n")
    altered = CliRunner().invoke(main, ["doctor"], env=env)
    assert altered.exit_code == 1
    assert f"error: {submission_id} (alpha.csv, archive/{archived}): the archived copy was altered" in (
        altered.output
    )
    assert "archive: 0 of 1 submission files intact" in altered.output

    copy.unlink()
    result = defs.resolve_job_def("ingest_job").execute_in_process()
    assert result.success  # the ledger is intact: ingestion goes on, the error is reported
    check = evaluation(result, "archive_intact")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["files_missing"].value == 1
    assert f"| {submission_id} | alpha.csv | {archived} | the archived copy is missing |" in (
        check.metadata["missing_files"].value
    )
    assert "the archived copy is missing" in CliRunner().invoke(main, ["doctor"], env=env).output
    from pipelines.runs import summarise

    summary = summarise("ingest_job", result, settings)
    assert summary.failed_checks == ["archive_intact"]
    assert summary.lines()[-1].startswith("  FAILED check: archive_intact")
