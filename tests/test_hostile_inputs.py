"""Hostile and malformed submissions: each gets its specific verdict and the rest of the inbox goes on.

The whole corpus (tests/hostile_corpus.py) is ingested together with one valid file in a single run; the
tests then read the ledger. The steward guide (site/steward/hostile-inputs.md) documents the same verdicts.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from instep.check import check_files
from instep.ingest import stage_new_files
from instep.readers import UnreadableFile, display_name, read_submission
from instep.registry import load_registry, read_registry
from instep.report import render_report, verdicts_from_warehouse, write_reports
from instep.settings import Settings
from instep.validate import row_state_counts, settle_staged_rows
from instep.warehouse import connect
from tests.conftest import AS_OF, write_registry
from tests.hostile_corpus import CASES, HEADER, VALID_FACILITY, Case, build_corpus, valid_csv

VALID_NAME = "valid.csv"
INGESTED = [case for case in CASES if case.ingested]
ARCHIVE_NAME = re.compile(r"[0-9a-f]{64}(\.[a-z0-9]{1,7})?")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("hostile")
    settings = Settings(workspace=root / "ws", datapackages_dir=root / "datapackages", as_of=AS_OF)
    write_registry(settings.registry_dir)
    build_corpus(settings.inbox_dir)
    (settings.inbox_dir / VALID_NAME).write_text(valid_csv(), encoding="utf-8")
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)
    return settings


@pytest.fixture(scope="module")
def warehouse(ingested: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-only connection to the ingested warehouse, for the module's tests that read it."""
    with connect(ingested, read_only=True) as con:
        yield con


def file_record(con: duckdb.DuckDBPyConnection, name: str) -> tuple:
    found = con.execute(
        "SELECT submission_id, status, rule, message, rows_read FROM submission_files "
        "WHERE original_name = ?",
        [name],
    ).fetchall()
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("case", CASES, ids=lambda case: display_name(case.name))
def test_each_hostile_file_gets_its_verdict(
    ingested: Settings, warehouse: duckdb.DuckDBPyConnection, case: Case
):
    if not case.ingested:
        names = {n for (n,) in warehouse.execute("SELECT original_name FROM submission_files").fetchall()}
        assert case.name not in names
        assert os.path.lexists(ingested.inbox_dir / case.name)  # left where it was
        return
    submission_id, status, rule, message, rows_read = file_record(warehouse, case.name)
    if case.file_rule:
        assert (status, rule, rows_read) == ("unreadable", case.file_rule, 0)
        texts = [message]
    else:
        assert (status, rule, rows_read) == ("ingested", None, case.rows)
        states = warehouse.execute(
            "SELECT row_number, state, rule, message FROM submission_rows WHERE submission_id = ? "
            "ORDER BY row_number",
            [submission_id],
        ).fetchall()
        assert len(states) == case.rows
        for row_number, state, row_rule, row_message in states:
            if row_number in case.row_rules:
                assert (state, row_rule) == ("rejected", case.row_rules[row_number]), row_number
                assert row_message
            else:
                assert (state, row_rule) == ("accepted", None), (row_number, row_message)
        texts = [m for _, _, _, m in states if m]
    for word in case.message_has:
        assert any(word in text for text in texts), (word, texts)


def test_valid_file_is_accepted_whole_beside_the_corpus(
    ingested: Settings, warehouse: duckdb.DuckDBPyConnection
):
    submission_id, status, _, _, rows_read = file_record(warehouse, VALID_NAME)
    states = warehouse.execute(
        "SELECT state, count(*) FROM submission_rows WHERE submission_id = ? GROUP BY state",
        [submission_id],
    ).fetchall()
    observed = warehouse.execute(
        "SELECT count(*) FROM observations WHERE facility_id = ?", [VALID_FACILITY]
    ).fetchall()[0][0]
    assert (status, rows_read) == ("ingested", 3)
    assert states == [("accepted", 3)]
    assert observed == 3


def test_row_states_add_up_per_file_and_observations_are_the_accepted_rows(
    warehouse: duckdb.DuckDBPyConnection,
):
    per_file = row_state_counts(warehouse).fetchall()
    accepted = warehouse.execute("SELECT count(*) FROM submission_rows WHERE state = 'accepted'").fetchall()
    observations = warehouse.execute("SELECT count(*) FROM observations").fetchall()
    staged = warehouse.execute("SELECT count(*) FROM staged_rows").fetchall()
    assert len(per_file) == len(INGESTED) + 1
    for _, name, status, rows_read, n_accepted, n_rejected, n_superseded in per_file:
        assert n_accepted + n_rejected + n_superseded == rows_read, name
        if status == "unreadable":
            assert rows_read == 0, name
    assert accepted == observations
    assert staged == [(0,)]


def test_archive_names_are_content_hashes_whatever_the_file_was_called(
    ingested: Settings, warehouse: duckdb.DuckDBPyConnection
):
    archived = sorted(ingested.archive_dir.iterdir())
    assert len(archived) == len(INGESTED) + 1
    for path in archived:
        assert ARCHIVE_NAME.fullmatch(path.name), path.name
        assert path.resolve().parent == ingested.archive_dir.resolve()
    names = warehouse.execute("SELECT original_name, archived_path FROM submission_files").fetchall()
    for original, archived_name in names:
        assert (ingested.archive_dir / archived_name).read_bytes() == (
            ingested.inbox_dir / original
        ).read_bytes()
    # Nothing was written next to the workspace, whatever "..%2F" or a newline in a name asked for.
    assert sorted(p.name for p in ingested.workspace.iterdir()) == [
        "archive",
        "inbox",
        "outside-the-inbox.csv",
        "registry",
        "warehouse.duckdb",
        "warehouse.lock",
    ]


def test_reports_are_named_by_submission_and_show_control_characters_escaped(
    warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
):
    verdicts = verdicts_from_warehouse(warehouse)
    written = write_reports(verdicts, tmp_path / "reports")
    assert sorted(p.parent for p in written) == [tmp_path / "reports"] * len(written)
    # facility, period and original name, then the id: safe characters only, whatever the file was called
    assert all(re.fullmatch(r"(?:[A-Za-z0-9-]+_)*S-[0-9a-f]{16}\.md", p.name) for p in written)
    assert len({p.name for p in written}) == len(verdicts)
    hostile = next(v for v in verdicts if "\n" in v.file_name)
    report = render_report(hostile)
    assert report.startswith("# Validation report: line\\nbreak\\r\\x1b\\[31m.csv\n")
    assert "\x1b" not in report and "\r" not in report


def test_submitted_markup_is_shown_as_text_in_the_report(warehouse: duckdb.DuckDBPyConnection):
    submission_id = file_record(warehouse, "markup_in_cells.csv")[0]
    (verdict,) = verdicts_from_warehouse(warehouse, [submission_id])
    report = render_report(verdict)
    assert "\\<script\\>alert(1)\\</script\\>" in report
    assert "\\| \\<b\\>bold\\</b\\>" in report
    # No tag, and no cell boundary a value could add to the table: every "<" and "|" of a value is escaped.
    assert "<script" not in report.replace("\\<script", "")
    for line in report.splitlines():
        if line.startswith("| 2 |") or line.startswith("| 3 |"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 7, line


def test_long_cell_report_does_not_carry_the_megabyte(warehouse: duckdb.DuckDBPyConnection):
    submission_id = file_record(warehouse, "long_cell.csv")[0]
    (verdict,) = verdicts_from_warehouse(warehouse, [submission_id])
    assert len(render_report(verdict)) < 5_000


# Values and periods next to the corpus's, each with the rule its row is rejected under (None: accepted).
VALUE_CASES = [
    ("value", "1,234,567", "thousands_separator"),
    ("value", "1'234", "thousands_separator"),
    ("value", "1\u00a0234,5", "thousands_separator"),
    ("value", "1,234", "thousands_separator"),
    ("value", "1234,567", "decimal_comma"),
    ("value", "1.2.3", "not_a_number"),
    ("value", "12.", None),
    ("value", ".5", None),
    ("value", "1e3", None),
    ("period", "2024-01\n", "bad_period_format"),
    ("period", "\uff12\uff10\uff12\uff14-01", "bad_period_format"),
    ("period", "=DATE(2024,1,1)", "formula_without_result"),
]


def test_value_and_period_forms_get_their_rule(workspace: Settings, tmp_path: Path):
    metrics = ["water.recycled", "water.withdrawal.municipal", "water.withdrawal.groundwater"]
    rows = []
    for index, (column, text, _) in enumerate(VALUE_CASES):
        cells = {"value": "10", "period": f"2024-{index % 12 + 1:02d}"}
        cells[column] = text
        rows.append(["ET-HAW-F001", cells["period"], metrics[index // 12], cells["value"], "m3", "", "", ""])
    path = tmp_path / "forms.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([list(HEADER), *rows])
    (verdict,) = check_files([path], read_registry(workspace.registry_dir), AS_OF)
    messages: dict[int, str] = {}
    primary: dict[int, str] = {}
    for issue in verdict.issues:  # issues come in row order, the primary rule of each row first
        primary.setdefault(issue.row_number, issue.rule)
        messages.setdefault(issue.row_number, issue.message)
    assert [primary.get(number) for number in range(1, len(VALUE_CASES) + 1)] == [
        rule for _, _, rule in VALUE_CASES
    ]
    assert verdict.rows_read == len(VALUE_CASES)
    # Each hint names the number to write; where the comma could mean either, it gives both readings
    # and says that they differ a thousandfold.
    hints = {VALUE_CASES[number - 1][1]: message for number, message in messages.items()}
    assert hints["1,234,567"].endswith("write 1234567")
    assert hints["1\u00a0234,5"].endswith("write 1234.5")
    assert "probably a thousands separator: write 1234;" in hints["1,234"]
    assert "write 1.234 (a value a thousand times smaller)" in hints["1,234"]
    assert (
        "write 1234.567 with a decimal point (if the comma separated thousands, 1234567)"
        in (hints["1234,567"])
    )


def test_json_keys_differing_only_in_case_are_a_duplicate(tmp_path: Path):
    path = tmp_path / "keys.json"
    path.write_text(
        '{"records": [{"facility_id": "ET-HAW-F001", "period": "2024-01", "metric": "water.recycled", '
        '"value": 1, "VALUE": 2, "unit": "m3"}]}',
        encoding="utf-8",
    )
    with pytest.raises(UnreadableFile) as raised:
        read_submission(path)
    assert raised.value.rule == "duplicate_columns"
    assert "record 1" in raised.value.message and "value" in raised.value.message


def test_instep_check_reaches_the_pipelines_verdict_on_every_case_without_a_traceback(
    ingested: Settings, warehouse: duckdb.DuckDBPyConnection, tmp_path: Path
):
    from click.testing import CliRunner

    from instep.cli import main

    inbox = tmp_path / "inbox"
    build_corpus(inbox)
    (inbox / VALID_NAME).write_text(valid_csv(), encoding="utf-8")
    paths = [inbox / case.name for case in INGESTED] + [inbox / VALID_NAME]
    result = CliRunner().invoke(
        main, ["check", "--quiet", "--registry", str(ingested.registry_dir), *map(str, paths)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    assert result.exit_code == 2  # the worst verdict: some files are unreadable
    verdicts = {v.file_name: v for v in check_files(paths, read_registry(ingested.registry_dir), AS_OF)}
    for case in INGESTED:
        verdict = verdicts[case.name]
        _, status, rule, _, rows_read = file_record(warehouse, case.name)
        assert (verdict.unreadable_rule, verdict.rows_read) == (rule, rows_read), case.name
        assert verdict.unreadable == (status == "unreadable"), case.name
        assert f"{display_name(case.name)}: " in result.output
        rejected = warehouse.execute(
            "SELECT count(*) FROM submission_rows AS r JOIN submission_files USING (submission_id) "
            "WHERE original_name = ? AND state = 'rejected'",
            [case.name],
        ).fetchall()[0][0]
        assert verdict.rows_rejected == rejected, case.name
    assert verdicts[VALID_NAME].valid


def test_rows_arrow_cannot_hold_reject_only_their_file_even_past_the_readers_checks(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
):
    import instep.ingest.staging
    import instep.readers

    real = instep.readers.read_submission_data

    def reader_missing_a_check(name: str, data: bytes):
        table = real(name, data)
        if name == "bad.csv":
            table.columns["comment"][0] = "\udfff"  # what a reader defect would let through
        return table

    monkeypatch.setattr(instep.ingest.staging, "read_submission_data", reader_missing_a_check)
    (workspace.inbox_dir / "bad.csv").write_text(valid_csv("2023-01"), encoding="utf-8")
    (workspace.inbox_dir / VALID_NAME).write_text(valid_csv(), encoding="utf-8")
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        summary = stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        settle_staged_rows(con, AS_OF)
        files = dict(
            con.execute(
                "SELECT original_name, status || ':' || coalesce(rule, '') FROM submission_files"
            ).fetchall()
        )
    assert files == {"bad.csv": "unreadable:unreadable_format", VALID_NAME: "ingested:"}
    assert "UnicodeEncodeError" in summary.unreadable["bad.csv"]
    assert summary.rows_staged == 3


def test_a_sample_date_written_another_way_restates_the_sample_in_a_later_file(workspace: Settings):
    header = ",".join(HEADER)
    (workspace.inbox_dir / "a.csv").write_text(
        f"{header}\nET-HAW-C001,2023-03,wastewater.cod,40,mg/L,discharge,2023-3-5,\n", encoding="utf-8"
    )
    (workspace.inbox_dir / "b.csv").write_text(
        f"{header}\nET-HAW-C001,2023-03,wastewater.cod,41,mg/L,discharge, 2023-03-05 ,\n", encoding="utf-8"
    )
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        settle_staged_rows(con, AS_OF)
        states = con.execute(
            "SELECT original_name, state FROM submission_rows JOIN submission_files USING (submission_id) "
            "ORDER BY submission_files.file_seq"
        ).fetchall()
        observed = con.execute("SELECT value, sample_date::VARCHAR FROM observations").fetchall()
    assert states == [("a.csv", "superseded"), ("b.csv", "accepted")]
    assert observed == [(41.0, "2023-03-05")]


def test_a_release_is_published_after_the_whole_corpus_beside_a_valid_file(tmp_path: Path):
    import dagster as dg

    from assets import ASSETS
    from assets.resources import InstepWorkspace
    from pipelines.runs import release_run_config

    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "datapackages", as_of=AS_OF)
    write_registry(settings.registry_dir)
    build_corpus(settings.inbox_dir)
    (settings.inbox_dir / VALID_NAME).write_text(valid_csv(), encoding="utf-8")
    # The chain up to the release; the site stage has its own tests.
    chain = [a for a in ASSETS if "site" not in set(a.group_names_by_key.values())]
    result = dg.materialize(
        chain,
        resources={"instep": InstepWorkspace.from_settings(settings)},
        run_config=release_run_config("1.0.0", "2026-11-25"),
        raise_on_error=False,
    )
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert result.success, failed
    assert "observations_pass_suite" not in failed
    assert (settings.datapackages_dir / settings.package_name / "1.0.0" / "datapackage.json").is_file()


def test_a_file_removed_while_the_batch_is_read_is_skipped_and_the_rest_ingested(
    workspace: Settings, monkeypatch: pytest.MonkeyPatch
):
    import instep.ingest.staging

    (workspace.inbox_dir / "a_gone.csv").write_text(valid_csv("2023-01"), encoding="utf-8")
    (workspace.inbox_dir / VALID_NAME).write_text(valid_csv(), encoding="utf-8")
    real = instep.ingest.staging.prepare_file

    def steward_moves_a_file_away(index, path, archive_dir, known):
        if path.name == "a_gone.csv":
            path.unlink()  # listed by the run, then moved away before it is read
        return real(index, path, archive_dir, known)

    monkeypatch.setattr(instep.ingest.staging, "prepare_file", steward_moves_a_file_away)
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        summary = stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        names = [n for (n,) in con.execute("SELECT original_name FROM submission_files").fetchall()]
    assert summary.vanished == ["a_gone.csv"]
    assert names == [VALID_NAME] and summary.new_files == [VALID_NAME]
    # It is ingested when it comes back.
    monkeypatch.setattr(instep.ingest.staging, "prepare_file", real)
    (workspace.inbox_dir / "a_gone.csv").write_text(valid_csv("2023-01"), encoding="utf-8")
    with connect(workspace) as con:
        assert stage_new_files(con, workspace.inbox_dir, workspace.archive_dir).new_files == ["a_gone.csv"]


def test_an_altered_copy_left_in_the_archive_is_replaced_not_trusted(workspace: Settings):
    import hashlib

    from instep.ingest import archive_problems

    data = valid_csv().encode("utf-8")
    name = hashlib.sha256(data).hexdigest() + ".csv"
    workspace.archive_dir.mkdir(parents=True)
    # What a killed run could leave, later changed on disk: the file's name, other content.
    (workspace.archive_dir / name).write_bytes(b"not what was received\n")
    (workspace.inbox_dir / VALID_NAME).write_bytes(data)
    with connect(workspace) as con:
        load_registry(con, read_registry(workspace.registry_dir))
        stage_new_files(con, workspace.inbox_dir, workspace.archive_dir)
        assert archive_problems(con, workspace.archive_dir, verify_hashes=True) == []
    assert (workspace.archive_dir / name).read_bytes() == data
    assert sorted(p.name for p in workspace.archive_dir.iterdir()) == [name]
