"""The demo inbox through ingestion: the faults a programme sees are each caught, nothing is lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from instep.check import check_files
from instep.demo import generate_demo
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import REPO_ROOT, Settings
from instep.validate import row_state_counts, settle_staged_rows
from instep.warehouse import connect
from tests.cli_helpers import invoke_instep
from tests.conftest import AS_OF


def ingest(settings: Settings) -> None:
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(workspace=root, datapackages_dir=root / "datapackages", as_of=AS_OF)
    generate_demo(root, facilities=24, months=12, seed=7)
    manifest = json.loads((root / "demo-manifest.json").read_text(encoding="utf-8"))
    ingest(settings)
    return settings, manifest


def test_states_add_up_per_file_and_in_total(demo: tuple[Settings, dict]):
    settings, manifest = demo
    with connect(settings) as con:
        per_file = row_state_counts(con).fetchall()
    assert len(per_file) == manifest["files"]
    for name, status, rows_read, accepted, rejected, superseded in (row[1:] for row in per_file):
        assert accepted + rejected + superseded == rows_read, name
        if status == "unreadable":
            assert rows_read == 0
    assert sum(row[3] for row in per_file) == manifest["rows"]


def test_every_planted_fault_is_caught_with_its_rule(demo: tuple[Settings, dict]):
    settings, manifest = demo
    kinds = {fault["kind"] for fault in manifest["planted_faults"]}
    assert len(kinds) >= 15
    with connect(settings) as con:
        file_rules = dict(con.execute("SELECT original_name, rule FROM submission_files").fetchall())
        row_rules = {
            (name, row): (state, rule, message)
            for name, row, state, rule, message in con.execute(
                "SELECT f.original_name, r.row_number, r.state, r.rule, r.message "
                "FROM submission_rows r JOIN submission_files f USING (submission_id)"
            ).fetchall()
        }
    for fault in manifest["planted_faults"]:
        if fault["row_number"] is None:
            assert file_rules[fault["file"]] == fault["rule"], fault
        else:
            state, rule, message = row_rules[(fault["file"], fault["row_number"])]
            assert (state, rule) == ("rejected", fault["rule"]), fault
            assert message, fault


def test_wrong_unit_is_flagged_implausible(demo: tuple[Settings, dict]):
    settings, manifest = demo
    wrong_units = [f for f in manifest["planted_faults"] if f["rule"] == "implausible_value"]
    assert wrong_units
    with connect(settings) as con:
        messages = [
            row[0]
            for row in con.execute(
                "SELECT message FROM row_issues WHERE rule = 'implausible_value'"
            ).fetchall()
        ]
    assert any("MWh" in message and "check the unit" in message for message in messages)


def test_restatements_supersede_earlier_values(demo: tuple[Settings, dict]):
    settings, manifest = demo
    assert manifest["restatements"]
    with connect(settings) as con:
        for restated in manifest["restatements"]:
            accepted = con.execute(
                "SELECT f.original_name FROM submission_rows r JOIN submission_files f USING (submission_id) "
                "WHERE r.facility_id = ? AND r.period = ? AND r.metric = ? AND r.state = 'accepted'",
                [restated["facility_id"], restated["period"], restated["metric"]],
            ).fetchall()
            assert accepted == [(restated["file"],)]


def test_ingesting_the_demo_inbox_twice_changes_nothing(demo: tuple[Settings, dict]):
    settings, _ = demo
    query = "SELECT * FROM submission_rows ORDER BY submission_id, row_number"
    with connect(settings) as con:
        before = con.execute(query).fetchall()
        files_before = con.execute("SELECT count(*) FROM submission_files").fetchall()
    ingest(settings)
    with connect(settings) as con:
        assert con.execute(query).fetchall() == before
        assert con.execute("SELECT count(*) FROM submission_files").fetchall() == files_before


def test_check_gives_each_faulty_file_the_pipelines_verdict(demo: tuple[Settings, dict]):
    settings, manifest = demo
    faulty_files = sorted({fault["file"] for fault in manifest["planted_faults"]})
    registry = read_registry(settings.registry_dir)
    with connect(settings) as con:
        pipeline = {}
        for name, file_rule in con.execute("SELECT original_name, rule FROM submission_files").fetchall():
            rules = {
                row[0]
                for row in con.execute(
                    "SELECT DISTINCT i.rule FROM row_issues i JOIN submission_files f USING (submission_id) "
                    "WHERE f.original_name = ?",
                    [name],
                ).fetchall()
            }
            pipeline[name] = {file_rule} if file_rule else rules
    for name in faulty_files:
        # with the warehouse, check compares with the facilities' history as the pipeline did
        (verdict,) = check_files(
            [settings.inbox_dir / name], registry, settings.as_of, settings.warehouse_path
        )
        assert verdict.exit_code in (1, 2), name
        assert verdict.rules_failed == pipeline[name], name


def _cli_check(path: Path, registry: Path) -> int:
    argv = ["check", "--quiet", "--registry", str(registry), str(path)]
    return invoke_instep(argv, {"INSTEP_AS_OF": AS_OF.isoformat()}).returncode


def test_shipped_example_is_valid_and_faulty_files_are_not(demo: tuple[Settings, dict]):
    settings, manifest = demo
    assert _cli_check(REPO_ROOT / "templates" / "example_submission.csv", settings.registry_dir) == 0
    row_fault = next(f for f in manifest["planted_faults"] if f["row_number"] is not None)
    assert _cli_check(settings.inbox_dir / row_fault["file"], settings.registry_dir) == 1
    binary = next(f for f in manifest["planted_faults"] if f["rule"] == "unreadable_format")
    assert _cli_check(settings.inbox_dir / binary["file"], settings.registry_dir) == 2
