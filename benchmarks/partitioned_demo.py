"""The path past one machine, shown locally: a park-partitioned indicator asset on the multiprocess executor.

    .venv/bin/python benchmarks/partitioned_demo.py WORKSPACE [--max-concurrent 2]

WORKSPACE is an ingested workspace (registry/ and warehouse.duckdb, e.g. benchmarks/work/workspace-
programme after a benchmark run). `facility_monthly_by_park` computes the facility-month indicators of
one park (the same SQL as `out_facility_monthly`, from `instep.indicators`) from that park's
observations only, and writes them as Parquet in a Hive layout, partitions/facility_monthly/
park_id=<park>/data.parquet, which DuckDB reads back as one table. Every park is its own run whose step
runs in its own process (`dg.multiprocess_executor`); the runs go side by side. On a cluster the same
definitions run with the Kubernetes executor or run launcher and the Parquet goes to object storage.

The warehouse is opened read-only by every partition: DuckDB lets many processes read one file at once.
"""

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402

from instep.registry import read_registry  # noqa: E402

JOB_NAME = "facility_monthly_by_park_job"
PARTITIONS_DIR = Path("partitions") / "facility_monthly"


def partition_path(workspace: Path, park_id: str) -> Path:
    return workspace / PARTITIONS_DIR / f"park_id={park_id}" / "data.parquet"


def compute_park_partition(workspace: Path, park_id: str, gwp_set: str = "ar5") -> int:
    """Facility-month indicators of one park's facilities, written as that park's Parquet partition."""
    from instep.indicators.facility import build_facility_monthly, build_wastewater_results
    from instep.indicators.reference_tables import register_reference_tables

    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(workspace / "warehouse.duckdb")])
        # The park's slice of the warehouse under the names the indicator SQL reads.
        for table in ("observations", "facilities", "parks"):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM wh.{table} WHERE park_id = ?", [park_id])
        # the submitted rows tell which inputs were rejected (missing_inputs)
        con.execute(
            "CREATE TABLE submission_rows AS SELECT r.* FROM wh.submission_rows AS r "
            "JOIN facilities AS f ON f.facility_id = trim(r.facility_id)"
        )
        con.execute("DETACH wh")
        register_reference_tables(con, gwp_set)
        build_wastewater_results(con)
        build_facility_monthly(con, gwp_set)
        target = partition_path(workspace, park_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        con.execute(
            f"COPY (SELECT * EXCLUDE (park_id) FROM out_facility_monthly ORDER BY facility_id, period) "
            f"TO '{partial}' (FORMAT parquet)"
        )
        partial.replace(target)
        return con.execute("SELECT count(*) FROM out_facility_monthly").fetchall()[0][0]
    finally:
        con.close()


def build_job(workspace: str) -> dg.JobDefinition:
    """The partitioned asset and its job; a function, so that each step's process can rebuild it."""
    root = Path(workspace)
    parks = [row["park_id"] for row in read_registry(root / "registry").parks]
    partitions = dg.StaticPartitionsDefinition(parks)

    @dg.asset(
        partitions_def=partitions,
        kinds={"duckdb", "parquet"},
        description="Facility-month indicators of one park, as Parquet (Hive layout by park_id).",
    )
    def facility_monthly_by_park(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        rows = compute_park_partition(root, context.partition_key)
        path = partition_path(root, context.partition_key)
        return dg.MaterializeResult(metadata={"rows": rows, "path": dg.MetadataValue.path(str(path))})

    job = dg.define_asset_job(
        JOB_NAME,
        selection=[facility_monthly_by_park],
        executor_def=dg.multiprocess_executor,
    )
    return dg.Definitions(assets=[facility_monthly_by_park], jobs=[job]).resolve_job_def(JOB_NAME)


def run_partitions(workspace: Path, max_concurrent: int = 2) -> dict[str, float]:
    """Materialise every park partition, `max_concurrent` runs at a time; seconds per park."""
    parks = [row["park_id"] for row in read_registry(workspace / "registry").parks]
    recon = dg.build_reconstructable_job(
        "benchmarks.partitioned_demo",
        "build_job",
        reconstructable_args=(str(workspace),),
        reconstructor_working_directory=str(REPO),
    )
    instance_dir = workspace / ".dagster-partitioned"
    instance_dir.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:

        def one(park: str) -> tuple[str, float]:
            started = time.perf_counter()
            with dg.execute_job(recon, instance=instance, tags={"dagster/partition": park}) as result:
                if not result.success:
                    raise RuntimeError(f"partition {park} failed")
            return park, time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=max_concurrent) as pool:
            return dict(pool.map(one, parks))


def read_partitions(workspace: Path) -> duckdb.DuckDBPyRelation:
    """All partitions as one table, as DuckDB reads a partitioned dataset (locally or from object storage)."""
    pattern = workspace / PARTITIONS_DIR / "*" / "*.parquet"
    return duckdb.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--max-concurrent", type=int, default=2)
    args = parser.parse_args()
    workspace = args.workspace.resolve()
    started = time.perf_counter()
    seconds = run_partitions(workspace, args.max_concurrent)
    wall = time.perf_counter() - started
    for park, took in sorted(seconds.items()):
        print(f"  {park}: {took:.1f} s (one run, its step in its own process)")
    rows = read_partitions(workspace).aggregate("count(*)").fetchall()[0][0]
    print(f"{len(seconds)} park partitions in {wall:.1f} s; {rows:,} facility-months read back from Parquet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
