"""Settling in chunks of files gives every row the state it gets when the batch is settled at once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from instep.demo import generate_demo
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import file_chunks, settle_staged_rows, suite
from instep.validate.prepare import PREPARE_SQL, register_validation_reference
from instep.validate.suite import SuiteRunner, file_boundaries
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
        # Where each superseded row and the row that restated it were settled: (file_seq, file_seq).
        restatements = con.execute(
            "SELECT r.file_seq, later.file_seq FROM submission_rows AS r JOIN submission_files AS later "
            "ON later.submission_id = r.superseded_by WHERE r.state = 'superseded'"
        ).fetchall()
        rows_per_file = con.execute(
            "SELECT file_seq, count(*) FROM submission_rows GROUP BY file_seq ORDER BY file_seq"
        ).fetchall()
        staged = con.execute("SELECT count(*) FROM staged_rows").fetchall()[0][0]
        issues = con.execute("SELECT count(*) FROM row_issues").fetchall()[0][0]
    return {
        "summary": summary,
        "states": states,
        "observations": observations,
        "backwards": backwards,
        "restatements": restatements,
        "chunks": file_chunks(rows_per_file, chunk_rows),
        "staged": staged,
        "issues": issues,
    }


def test_chunked_settling_matches_settling_at_once(tmp_path: Path):
    demo = tmp_path / "demo"
    generate_demo(demo, facilities=8, months=12, seed=11)
    at_once = _settled(tmp_path / "once", demo, chunk_rows=10**9)
    # Chunks of a few files each (nine here): enough for every restatement to be settled in a later
    # chunk than the row it supersedes, which is what chunking could get wrong.
    chunked = _settled(tmp_path / "chunked", demo, chunk_rows=700)
    chunks = chunked["chunks"]

    def chunk_of(file_seq: int) -> int:
        return next(i for i, (first, last) in enumerate(chunks) if first <= file_seq <= last)

    assert len(chunks) >= 5 and len(at_once["chunks"]) == 1
    assert chunked["restatements"] and all(
        chunk_of(earlier) < chunk_of(later) for earlier, later in chunked["restatements"]
    )
    assert chunked["states"] == at_once["states"]
    assert chunked["observations"] == at_once["observations"]
    assert chunked["summary"] == at_once["summary"]
    assert chunked["issues"] == at_once["issues"]
    assert {row[2] for row in at_once["states"]} == {"accepted", "rejected", "superseded"}
    assert chunked["backwards"] == at_once["backwards"] == 0
    assert chunked["staged"] == 0


def test_file_boundaries_cut_between_files_only():
    ids = pa.array(["a"] * 5 + ["b"] * 1 + ["c"] * 4 + ["d"] * 2)
    assert file_boundaries(ids, 1) == [0, 12]
    assert file_boundaries(ids, 2) == [0, 6, 12]
    assert file_boundaries(ids, 3) == [0, 5, 10, 12]
    assert file_boundaries(pa.array(["a"] * 7), 4) == [0, 7]  # one file is never split
    for parts in range(1, 8):
        cuts = file_boundaries(ids, parts)
        assert cuts[0] == 0 and cuts[-1] == len(ids) and cuts == sorted(set(cuts))
        assert all(ids[cut - 1] != ids[cut] for cut in cuts[1:-1])


def test_rows_judged_in_parallel_parts_get_the_issues_of_one_judgement(tmp_path: Path, monkeypatch):
    demo = tmp_path / "demo"
    generate_demo(demo, facilities=8, months=12, seed=11)
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "dp", as_of=AS_OF)
    with connect(settings) as con:
        load_registry(con, read_registry(demo / "registry"))
        stage_new_files(con, demo / "inbox", settings.archive_dir)
        register_validation_reference(con)
        con.execute("CREATE TEMP TABLE prepared AS " + PREPARE_SQL.replace("{staged}", "staged_rows"))
        prepared = con.sql("SELECT * FROM prepared ORDER BY file_seq, row_number").to_arrow_table()
        facility_ids = tuple(row[0] for row in con.execute("SELECT facility_id FROM facilities").fetchall())

    def issues(workers: int) -> list[tuple[object, ...]]:
        with SuiteRunner(workers) as runner:
            found = runner.judge(prepared, facility_ids, AS_OF)
        return sorted(found.itertuples(index=False, name=None))

    at_once = issues(1)
    monkeypatch.setattr(suite, "PARALLEL_MIN_ROWS", 1)
    assert issues(2) == at_once
    assert issues(3) == at_once
    # The planted faults the pandas part judges are there (a month or a number written wrongly).
    assert {"bad_period_format", "not_a_number"} <= {row[3] for row in at_once}
