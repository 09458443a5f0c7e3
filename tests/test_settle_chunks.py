"""Settling in chunks of files gives every row the state it gets when the batch is settled at once."""

from __future__ import annotations

from pathlib import Path

from instep.demo import generate_demo
from instep.ingest import file_chunks, settle_staged_rows, stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.warehouse import connect
from tests.conftest import AS_OF


def test_file_chunks_keep_whole_files_in_order():
    files = [(1, 40), (2, 70), (3, 10), (4, 200), (5, 5)]
    assert file_chunks(files, 100) == [(1, 1), (2, 3), (4, 4), (5, 5)]
    assert file_chunks(files, 10_000) == [(1, 5)]
    assert file_chunks([], 100) == []


def _settled(root: Path, demo: Path, chunk_rows: int) -> dict[str, object]:
    settings = Settings(workspace=root, datapackages_dir=root / "datapackages", as_of=AS_OF)
    with connect(settings) as con:
        load_registry(con, read_registry(demo / "registry"))
        stage_new_files(con, demo / "inbox", settings.archive_dir)
        summary = settle_staged_rows(con, settings.as_of, chunk_rows=chunk_rows)
        states = con.execute(
            "SELECT f.original_name, r.row_number, r.state, r.rule FROM submission_rows AS r "
            "JOIN submission_files AS f USING (submission_id) ORDER BY 1, 2"
        ).fetchall()
        observations = con.execute(
            "SELECT submission_id, row_number, value FROM observations ORDER BY 1, 2"
        ).fetchall()
        # A superseded row names a submission ingested after its own.
        backwards = con.execute(
            "SELECT count(*) FROM submission_rows AS r JOIN submission_files AS later "
            "ON later.submission_id = r.superseded_by "
            "WHERE r.state = 'superseded' AND later.file_seq <= r.file_seq"
        ).fetchall()[0][0]
        staged = con.execute("SELECT count(*) FROM staged_rows").fetchall()[0][0]
        issues = con.execute("SELECT count(*) FROM row_issues").fetchall()[0][0]
    return {
        "summary": summary,
        "states": states,
        "observations": observations,
        "backwards": backwards,
        "staged": staged,
        "issues": issues,
    }


def test_chunked_settling_matches_settling_at_once(tmp_path: Path):
    demo = tmp_path / "demo"
    generate_demo(demo, facilities=8, months=12, seed=11)
    at_once = _settled(tmp_path / "once", demo, chunk_rows=10**9)
    chunked = _settled(tmp_path / "chunked", demo, chunk_rows=150)
    assert chunked["states"] == at_once["states"]
    assert chunked["observations"] == at_once["observations"]
    assert chunked["summary"] == at_once["summary"]
    assert chunked["issues"] == at_once["issues"]
    assert {row[2] for row in at_once["states"]} == {"accepted", "rejected", "superseded"}
    assert chunked["backwards"] == at_once["backwards"] == 0
    assert chunked["staged"] == 0
