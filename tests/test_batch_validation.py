"""Incremental work scoped to the batch: only new inbox files are read, the observation suite judges the
batch's facilities, and the suite's SQL on the whole warehouse still finds a row broken anywhere else."""

from __future__ import annotations

import hashlib
import os

import dagster as dg
import pytest

import instep.ingest.staging as staging
import pipelines.sensors as sensors
from assets.ingest import raw_submission_files
from expectations.observation_suite import (
    check_observations,
    check_observations_of_batch,
    invariant_failures,
)
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import settle_staged_rows
from instep.warehouse import connect
from pipelines.definitions import build_defs

HEADER = "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
ALPHA = HEADER + (
    "ET-HAW-F001,2024-01,energy.electricity.grid,120000,kWh,,,\n"
    "ET-HAW-F001,2024-01,energy.fuel.diesel,850,L,,,\n"
    "ET-HAW-F001,2024-02,energy.electricity.grid,118000,kWh,,,\n"
    "ET-HAW-C001,2024-01,wastewater.cod,5,g/m3,discharge,2024-01-20,\n"
)
GAMMA = HEADER + (
    "VN-TST-F001,2024-01,water.recycled,12,m3,,,\n"
    "VN-TST-F001,2024-01,energy.electricity.grid,90000,kWh,,,\n"
    "VN-TST-F001,2024-02,water.recycled,14,m3,,,\n"
)
# A restatement of one of ALPHA's rows and a new month of the same facility.
ALPHA_RESTATED = HEADER + (
    "ET-HAW-F001,2024-02,energy.electricity.grid,119000,kWh,,,\n"
    "ET-HAW-F001,2024-03,energy.electricity.grid,117000,kWh,,,\n"
)


def _write(settings: Settings, name: str, text: str) -> None:
    (settings.inbox_dir / name).write_text(text, encoding="utf-8")


def _ingest(settings: Settings):
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        return settle_staged_rows(con, settings.as_of)


def _submission(con, facility: str) -> str:
    return con.execute(
        "SELECT min(submission_id) FROM observations WHERE facility_id = ?", [facility]
    ).fetchall()[0][0]


def _keys(failures) -> set[tuple[str, int, str]]:
    return {(f.submission_id, f.row_number, f.expectation) for f in failures}


def test_batch_scope_flags_what_the_whole_warehouse_check_flags(workspace: Settings):
    _write(workspace, "a-alpha.csv", ALPHA)
    _write(workspace, "b-gamma.csv", GAMMA)
    _ingest(workspace)
    _write(workspace, "c-alpha-restated.csv", ALPHA_RESTATED)
    batch = _ingest(workspace)
    assert batch.facilities == ("ET-HAW-F001",)

    with connect(workspace) as con:
        # A consistent warehouse: nothing flagged either way, and the batch judged is F001's rows only.
        clean = check_observations_of_batch(con, batch.facilities)
        assert clean.failures == [] and check_observations(con) == (8, [])
        assert (clean.batch_rows, clean.warehouse_rows) == (4, 8)

        old = _submission(con, "VN-TST-F001")
        new = con.execute(
            "SELECT submission_id FROM submission_files WHERE original_name = 'c-alpha-restated.csv'"
        ).fetchall()[0][0]
        # Rows broken by hand in partitions the batch never touched ...
        con.execute("UPDATE observations SET value = -3 WHERE submission_id = ? AND row_number = 1", [old])
        con.execute(
            "UPDATE observations SET value = 'NaN'::DOUBLE WHERE submission_id = ? AND row_number = 2",
            [old],
        )
        con.execute(
            "INSERT INTO observations SELECT submission_id, 99, facility_id, park_id, period, period_start, "
            "year, metric, topic, value, unit, censored, submitted_value, submitted_unit, sample_point, "
            "sample_date FROM observations WHERE submission_id = ? AND row_number = 3",
            [old],
        )
        con.execute("UPDATE observations SET park_id = 'VN-TST' WHERE facility_id = 'ET-HAW-C001'")
        # ... and one in the batch: a value left in the submitted unit.
        con.execute("UPDATE observations SET unit = 'MWh' WHERE submission_id = ? AND row_number = 2", [new])
        con.execute(
            "UPDATE observations SET value = 'Infinity'::DOUBLE WHERE submission_id = ? AND row_number = 1",
            [new],
        )

        _, whole = check_observations(con)
        scoped = check_observations_of_batch(con, batch.facilities)
        rebuild = check_observations_of_batch(con, None)
        invariants = invariant_failures(con)

    assert _keys(scoped.failures) == _keys(whole)
    assert _keys(rebuild.failures) == _keys(whole) and rebuild.batch_rows == 9
    assert _keys(invariants) == _keys(whole)
    assert _keys(whole) == {
        (old, 1, "negative_value"),
        (old, 2, "value_not_finite"),
        (old, 3, "duplicate_key"),
        (old, 99, "duplicate_key"),
        (_submission_of_cod(workspace), 4, "facility_in_other_park"),
        (new, 1, "value_not_finite"),
        (new, 1, "above_plausible_range"),
        (new, 2, "unit_not_canonical"),
    }
    # The suite on the batch saw only F001's rows; the rows broken elsewhere came from the SQL.
    assert _keys(scoped.batch_failures) == {
        (new, 1, "value_not_finite"),
        (new, 1, "above_plausible_range"),
        (new, 2, "unit_not_canonical"),
    }


def _submission_of_cod(settings: Settings) -> str:
    with connect(settings, read_only=True) as con:
        return _submission(con, "ET-HAW-C001")


def test_a_row_broken_in_an_old_partition_blocks_the_next_batch(workspace: Settings):
    _write(workspace, "a-alpha.csv", ALPHA)
    _write(workspace, "b-gamma.csv", GAMMA)
    defs = build_defs(workspace)
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("ingest_job").execute_in_process(instance=instance).success
        with connect(workspace) as con:
            old = _submission(con, "VN-TST-F001")
            con.execute(
                "UPDATE observations SET value = 1e12 WHERE submission_id = ? AND row_number = 1", [old]
            )
        _write(workspace, "c-alpha-restated.csv", ALPHA_RESTATED)
        result = defs.resolve_job_def("ingest_job").execute_in_process(
            instance=instance, raise_on_error=False
        )
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "observations_pass_suite"]
    assert not check.passed
    # The suite judged the observations of the batch's facility (three of ALPHA's, one new month) ...
    assert check.metadata["observations_of_batch_checked"].value == 4
    assert check.metadata["rows_failing_in_batch"].value == 0
    # ... and the SQL over all eight found the row changed in the other park.
    assert check.metadata["observations_checked"].value == 8
    assert check.metadata["failing_rows_json"].value == [
        {"submission_id": old, "row_number": 1, "expectation": "above_plausible_range"}
    ]


def _read_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files staging reads (hashes and parses) from now on."""
    read: list[str] = []
    original = staging.prepare_files

    def recording(paths, archive_dir, known):
        read.extend(path.name for path in paths)
        return original(paths, archive_dir, known)

    monkeypatch.setattr(staging, "prepare_files", recording)
    return read


def test_staging_the_whole_inbox_reads_only_new_or_changed_files(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
):
    _write(workspace, "a-alpha.csv", ALPHA)
    _write(workspace, "b-gamma.csv", GAMMA)
    _ingest(workspace)
    read = _read_files(monkeypatch)

    _write(workspace, "c-alpha-restated.csv", ALPHA_RESTATED)
    with connect(workspace) as con:
        summary = stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        settle_staged_rows(con, workspace.as_of)
    assert read == ["c-alpha-restated.csv"]
    assert summary.new_files == ["c-alpha-restated.csv"]
    assert sorted(summary.skipped_known) == ["a-alpha.csv", "b-gamma.csv"]

    # A corrected file under the same name is read again and is a new submission; an unchanged one not.
    path = workspace.inbox_dir / "b-gamma.csv"
    path.write_text(GAMMA.replace("12,m3", "13,m3"), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    read.clear()
    with connect(workspace) as con:
        summary = stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        files = con.execute("SELECT count(*) FROM submission_files").fetchall()[0][0]
    assert read == ["b-gamma.csv"]
    assert summary.new_files == ["b-gamma.csv"]
    assert files == 4


def test_sensor_with_a_fresh_cursor_hashes_and_requests_only_the_new_files(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
):
    _write(workspace, "a-alpha.csv", ALPHA)
    _write(workspace, "b-gamma.csv", GAMMA)
    _ingest(workspace)
    _write(workspace, "c-alpha-restated.csv", ALPHA_RESTATED)
    # Known content under a new name: hashed (its name was never read), not requested.
    _write(workspace, "d-gamma-copy.csv", GAMMA)
    hashed: list[str] = []
    original = sensors.file_sha256

    def recording(path):
        hashed.append(path.name)
        return original(path)

    monkeypatch.setattr(sensors, "file_sha256", recording)
    defs = build_defs(workspace)
    with (
        dg.instance_for_test() as instance,
        dg.build_sensor_context(
            instance=instance, cursor=None, definitions=defs, resources={"instep": defs.resources["instep"]}
        ) as context,
    ):
        result = defs.resolve_sensor_def("inbox_sensor")(context)
    assert hashed == ["c-alpha-restated.csv", "d-gamma-copy.csv"]
    assert [r.run_key for r in result.run_requests] == [hashlib.sha256(ALPHA_RESTATED.encode()).hexdigest()]
    config = result.run_requests[0].run_config["ops"][raw_submission_files.op.name]["config"]
    assert config["files"] == ["c-alpha-restated.csv"]
