"""The park-partitioned indicator asset, run with the multiprocess executor, gives the unpartitioned table."""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks.partitioned_demo import read_partitions, run_partitions
from instep.demo import generate_demo
from instep.indicators.facility import build_facility_monthly, build_wastewater_results
from instep.indicators.reference_tables import register_reference_tables
from instep.ingest import stage_new_files
from instep.registry import load_registry, read_registry
from instep.settings import Settings
from instep.validate import settle_staged_rows
from instep.warehouse import connect
from tests.conftest import AS_OF


def _facility_monthly_at_once(warehouse: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("ATTACH ? AS wh (READ_ONLY)", [str(warehouse)])
    for table in ("observations", "facilities", "parks", "submission_rows"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table}")
    con.execute("DETACH wh")
    register_reference_tables(con, "ar5")
    build_wastewater_results(con)
    build_facility_monthly(con, "ar5")
    return con


def test_park_partitions_add_up_to_the_whole_table(tmp_path: Path):
    settings = Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "dp", as_of=AS_OF)
    generate_demo(settings.workspace, facilities=8, months=6, seed=5)
    with connect(settings) as con:
        load_registry(con, read_registry(settings.registry_dir))
        stage_new_files(con, settings.inbox_dir, settings.archive_dir)
        settle_staged_rows(con, settings.as_of)
    parks = {row["park_id"] for row in read_registry(settings.registry_dir).parks}

    seconds = run_partitions(settings.workspace, max_concurrent=2)

    assert set(seconds) == parks
    whole = _facility_monthly_at_once(settings.warehouse_path)
    whole.register("parts", read_partitions(settings.workspace).to_arrow_table())
    # Hive partitioning puts park_id back from the folder names; every row comes back once.
    columns = ", ".join(f'"{c}"' for c in whole.table("out_facility_monthly").columns)
    counts = whole.execute(
        f"""
        SELECT (SELECT count(*) FROM out_facility_monthly), (SELECT count(*) FROM parts),
               (SELECT count(*) FROM (SELECT {columns} FROM out_facility_monthly EXCEPT ALL
                                      SELECT {columns} FROM parts)),
               (SELECT count(*) FROM (SELECT {columns} FROM parts EXCEPT ALL
                                      SELECT {columns} FROM out_facility_monthly))
        """
    ).fetchall()[0]
    assert counts[0] > 0
    assert counts == (counts[0], counts[0], 0, 0)
