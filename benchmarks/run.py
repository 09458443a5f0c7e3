"""Benchmark the pipeline at programme, national and global scale, with physical references beside it.

    .venv/bin/python benchmarks/run.py --scale programme        # 200 facilities x 36 months
    .venv/bin/python benchmarks/run.py --scale all --json out.json

For each scale: a synthetic inbox from `instep demo-data` (cached in benchmarks/work/, keyed by scale and
seed), then every stage of the asset graph that exists (ingest, validate, indicators, scorecards,
publish, site), each materialised through the same Dagster definitions the pipeline runs, and:

- DuckDB's own `read_csv` of the inbox's CSV files into a table (the floor for ingest);
- `frictionless validate` of the same rows against a schema of the submission columns (the row-by-row
  validator a user might pick instead), on a fixed sample, extrapolated by rows per second;
- a full rebuild, a stage per run, against the runs after one new submission file, as the pipeline makes
  them: a tick of the inbox sensor (with a fresh cursor) and the `ingest_job` run it requests for that
  file (ingest and validate), then one run of the warehouse's indicators and scorecards; each stage's
  share is its steps' time, and each run's overhead (planning it, its events) is reported beside them;
  the release and the site, which the steward cuts whole, are timed again after that file, apart;
- where the validate stage's time goes, in the full and the incremental run: its steps (settling, each
  check, the reports) and the phases of settling (preparing in DuckDB, the cross-row columns, the
  expectations evaluated in DuckDB and in pandas, wording the issues, writing the ledger), each also as
  a multiple of DuckDB's read_csv time for as many rows.

How things are measured, so the figures can be trusted:
- Every stage and every reference runs in its own child process. Its time is wall-clock time around the
  work only (imports and building the definitions are reported apart as start-up). Its memory is the
  child's peak resident set size (`ru_maxrss`), which includes DuckDB's native memory that tracemalloc
  would miss; `baseline_mb` is the resident size after imports, before the work.
- Rows per second divide the submitted data rows of the inbox (or of the new file, for the
  incremental run) by the stage's time, so stages are comparable with each other.
- Ratios compare time per row: the DuckDB reference reads only the CSV files (it cannot read the XLSX and
  JSON submissions), so its time is scaled to the inbox's rows before dividing.

Results go to benchmarks/results/<scale>.json with the machine, the versions and the git commit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WORK = REPO / "benchmarks" / "work"
RESULTS = REPO / "benchmarks" / "results"
SCALES = {"programme": (200, 36), "national": (2_000, 36), "global": (20_000, 36)}
# The demo's months end in 2025-12; a fixed reporting date keeps runs comparable across days.
AS_OF = date(2026, 1, 15)
# The stages of pipelines.jobs.STAGES with the names the issue uses for them.
STAGE_LABELS = {"publish": "release"}
# Stages that bring the warehouse up to date; the rest publish from it.
WAREHOUSE_STAGES = ("ingest", "validate", "indicators", "scorecards")
# The runs after one new file, as the pipeline makes them: the inbox sensor's run of `ingest_job`
# (ingest and validate), then one run of the warehouse's derived tables (indicators and scorecards).
INCREMENTAL_RUNS = (("ingest", "validate"), ("indicators", "scorecards"))
FRICTIONLESS_SAMPLE_ROWS = 50_000
PYTHON = sys.executable


# ---------------------------------------------------------------- child processes: one measurement each


def _rss_mb() -> float:
    """Resident set size now (Linux), in MiB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_stage(workspace: Path, group: str, sensor: bool = False) -> dict[str, Any]:
    """Materialise asset groups (`group`: one, or several separated by commas, in one run) with their
    checks, the way the pipeline does, in this process.

    `sensor`: as the inbox sensor launches it: one tick of the sensor with a fresh cursor (the most it
    ever looks at: every inbox file), then the run it requests, with its run config (the new file's
    name); the time is the tick's and the run's. `steps_by_stage` gives each step's time under the
    stage (asset group) it belongs to.
    """
    import dagster as dg

    # Imports are the process's start, outside the timed runs: Great Expectations with the code
    # location's other libraries, where a step would otherwise pay for it on first use.
    import great_expectations  # noqa: F401

    from assets import keys
    from instep.settings import Settings
    from pipelines.definitions import build_defs
    from pipelines.jobs import PREVIEW

    groups = group.split(",")
    settings = Settings(workspace=workspace, datapackages_dir=workspace / "datapackages", as_of=AS_OF)
    # The stage as the main job runs it: the nightly preview (a second release and site) is not part of it.
    selection = dg.AssetSelection.groups(*groups) - PREVIEW
    # The scorecards are scored from the published park-years (disclosure's pub_tables, in the publish
    # group), so disclosure runs with them, and the release stage starts after it.
    if "scorecards" in groups:
        selection = selection | dg.AssetSelection.assets(keys.PUB_TABLES)
    elif "publish" in groups:
        selection = selection - dg.AssetSelection.assets(keys.PUB_TABLES)
    job = dg.define_asset_job(f"benchmark_{'_'.join(groups)}", selection=selection)
    defs = dg.Definitions.merge(build_defs(settings), dg.Definitions(jobs=[job]))
    resolved = defs.resolve_job_def(job.name)
    stage_of_step = _stage_of_step(defs, groups)
    instance_dir = workspace / ".dagster"
    instance_dir.mkdir(exist_ok=True)
    baseline = _rss_mb()
    measured: dict[str, Any] = {}
    with dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        started = time.perf_counter()
        run_config = None
        if sensor:
            with dg.build_sensor_context(
                instance=instance,
                cursor=None,
                definitions=defs,
                resources={"instep": defs.resources["instep"]},
            ) as context:
                tick = defs.resolve_sensor_def("inbox_sensor")(context)
            requests = tick.run_requests or []
            if len(requests) != 1:
                raise RuntimeError(f"the inbox sensor requested {len(requests)} runs, not one")
            run_config = requests[0].run_config
            measured["sensor_tick_seconds"] = round(time.perf_counter() - started, 3)
        result = resolved.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)
        seconds = time.perf_counter() - started
        if result.success:
            measured["steps"] = {
                stat.step_key: round(stat.end_time - stat.start_time, 3)
                for stat in instance.get_run_step_stats(result.run_id)
                if stat.end_time and stat.start_time
            }
            by_stage: dict[str, dict[str, float]] = {}
            for step, spent in measured["steps"].items():
                by_stage.setdefault(stage_of_step.get(step, groups[-1]), {})[step] = spent
            measured["steps_by_stage"] = by_stage
            event = instance.get_latest_materialization_event(keys.SUBMISSION_ROWS)
            if "validate" in groups and event is not None and event.asset_materialization is not None:
                measured["validation_phases"] = {
                    key.removeprefix("seconds_"): value.value
                    for key, value in event.asset_materialization.metadata.items()
                    if key.startswith("seconds_")
                }
    if not result.success:
        failures = [e.message for e in result.all_events if e.is_failure]
        raise RuntimeError(f"stage {group} failed: {failures[:3]}")
    return {"seconds": seconds, "baseline_mb": baseline, "peak_mb": _peak_mb(), **measured}


def _stage_of_step(defs: Any, groups: list[str]) -> dict[str, str]:
    """The stage (asset group) of each op of the definitions; pub_tables, run with the scorecards, is
    theirs there."""
    graph = defs.resolve_asset_graph()
    out: dict[str, str] = {}
    for key in [*graph.get_all_asset_keys(), *graph.asset_check_keys]:
        asset_key = getattr(key, "asset_key", key)
        group = graph.get(asset_key).group_name
        out[graph.assets_def_for_key(key).node_def.name] = (
            group if group in groups or "scorecards" not in groups else "scorecards"
        )
    return out


def _allow_open_files() -> int:
    """Raise the soft limit of open files to the hard one; returns the limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _file_batches(files: list[Path]) -> list[list[str]]:
    # DuckDB's union_by_name keeps every file of a call open; past the open-files limit (tens of thousands
    # of files at national scale) the files are read in batches, then unioned by name.
    size = max(1, min(10_000, _allow_open_files() // 2))
    return [[str(f) for f in files[i : i + size]] for i in range(0, len(files), size)]


def child_duckdb(inbox: Path) -> dict[str, Any]:
    """DuckDB's own load of the inbox's CSV files: the physical floor for ingest."""
    import duckdb

    files = sorted(inbox.glob("*.csv"))
    batches = _file_batches(files)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    baseline = _rss_mb()
    started = time.perf_counter()
    for number, batch in enumerate(batches):
        con.execute(
            f"CREATE TABLE batch{number} AS SELECT * FROM read_csv(?, all_varchar = true, "
            "union_by_name = true, filename = true, ignore_errors = true)",
            [batch],
        )
    con.execute(
        "CREATE TABLE rows AS "
        + " UNION ALL BY NAME ".join(f"SELECT * FROM batch{n}" for n in range(len(batches)))
    )
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM rows").fetchall()[0][0]
    return {
        "seconds": seconds,
        "rows": rows,
        "files": len(files),
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(),
    }


def _frictionless_schema(registry: Path) -> dict[str, Any]:
    """The submission columns with the constraints a row-by-row validator can express."""
    import csv

    from instep import reference

    with (registry / "facilities.csv").open(encoding="utf-8") as handle:
        facility_ids = sorted(row["facility_id"] for row in csv.DictReader(handle))
    metrics = reference.metrics()
    units = sorted({unit for m in metrics.values() for unit in m.accepted_units})
    text = {"type": "string"}
    return {
        "fields": [
            {**text, "name": "facility_id", "constraints": {"required": True, "enum": facility_ids}},
            {
                **text,
                "name": "period",
                "constraints": {"required": True, "pattern": r"\d{4}-(0[1-9]|1[0-2])"},
            },
            {**text, "name": "metric", "constraints": {"required": True, "enum": sorted(metrics)}},
            {
                **text,
                "name": "value",
                "constraints": {"required": True, "pattern": r"(<\s*)?[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"},
            },
            {**text, "name": "unit", "constraints": {"required": True, "enum": units}},
            {**text, "name": "sample_point", "constraints": {"enum": ["raw", "treated", "discharge"]}},
            {"name": "sample_date", "type": "date"},
            {**text, "name": "comment", "constraints": {"maxLength": 32_767}},
        ],
        "primaryKey": [],
    }


def child_frictionless(inbox: Path, registry: Path, sample_rows: int, scratch: Path) -> dict[str, Any]:
    """`frictionless validate` of a fixed sample of the inbox's CSV rows, as one CSV with a schema."""
    import duckdb
    from frictionless import Resource, Schema, validate

    scratch.mkdir(parents=True, exist_ok=True)
    sample = scratch / "frictionless-sample.csv"
    columns = "facility_id, period, metric, value, unit, sample_point, sample_date, comment"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # The first rows in file order: the same sample for every run at a scale and seed.
    # The first rows in file order (the first batch of files holds more than the sample).
    first_files = _file_batches(sorted(inbox.glob("*.csv")))[0]
    con.execute(
        f"COPY (SELECT {columns} FROM read_csv(?, all_varchar = true, union_by_name = true, "
        "ignore_errors = true) LIMIT ?) TO ? (HEADER, DELIMITER ',')",
        [first_files, sample_rows, str(sample)],
    )
    rows = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)", [str(sample)]).fetchall()[0][0]
    con.close()
    schema = Schema.from_descriptor(_frictionless_schema(registry))
    baseline = _rss_mb()
    started = time.perf_counter()
    # A relative path under basepath: frictionless refuses absolute paths as unsafe.
    resource = Resource(path=sample.name, basepath=str(sample.parent), schema=schema)
    report = validate(resource, limit_errors=10**9)
    seconds = time.perf_counter() - started
    errors = sum(len(task.errors) for task in report.tasks)
    if report.errors or any(task.stats.get("rows", 0) == 0 for task in report.tasks):
        raise RuntimeError(
            f"frictionless could not validate the sample: {report.flatten(['type', 'note'])[:3]}"
        )
    return {
        "seconds": seconds,
        "rows": rows,
        "errors": errors,
        "baseline_mb": baseline,
        "peak_mb": _peak_mb(),
    }


def child_disclosure(workspace: Path) -> dict[str, Any]:
    """Disclosure control on the warehouse and latest release of the full run: what it withholds and
    what its plan and its audit cost (both run inside the release stage's time)."""
    from collections import Counter

    import duckdb
    import pyarrow.parquet as pq

    from instep.disclosure.audit import audit_release
    from instep.disclosure.plan import plan_disclosure
    from instep.metadata.resources import MEASURES
    from instep.settings import Settings

    settings = Settings(workspace=workspace, datapackages_dir=workspace / "datapackages", as_of=AS_OF)
    package = settings.datapackages_dir / settings.package_name
    release = package / (package / "LATEST").read_text(encoding="utf-8").strip()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    started = time.perf_counter()
    plan = plan_disclosure(con, None)
    plan_seconds = time.perf_counter() - started
    started = time.perf_counter()
    findings = audit_release(con, release, package, earlier=[])
    audit_seconds = time.perf_counter() - started
    measures = {f.name for f in MEASURES}
    withheld = published = 0
    for name in ("park_monthly", "park_annual"):
        for row in pq.read_table(release / "data" / f"{name}.parquet").to_pylist():
            hidden = set(filter(None, (row["suppressed_fields"] or "").split(";"))) & measures
            withheld += len(hidden)
            published += sum(1 for c in measures if c in row and row[c] is not None)
    return {
        "seconds": plan_seconds + audit_seconds,
        "plan_seconds": plan_seconds,
        "audit_seconds": audit_seconds,
        "cells_with_hidden_contributions": len(plan.cells),
        "relations": len(plan.relations),
        "park_cells_withheld": withheld,
        "park_cells_published": published,
        "share_of_park_cells_withheld": withheld / (withheld + published) if withheld + published else 0.0,
        "withheld_by_rule": dict(sorted(Counter(plan.withheld.values()).items())),
        "audit_findings": len(findings),
        "peak_mb": _peak_mb(),
    }


def run_child(kind: str, **kwargs: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; wall time includes its start-up."""
    args = [PYTHON, str(Path(__file__).resolve()), "--child", kind]
    for key, value in kwargs.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    started = time.perf_counter()
    completed = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{completed.stderr[-4000:]}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    measured["startup_seconds"] = round(wall - measured["seconds"], 3)
    return measured


# ---------------------------------------------------------------- the parent: inboxes, runs, report


def machine() -> dict[str, Any]:
    import duckdb

    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "cpu_model": model,
        "os": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "git_commit": git("rev-parse", "HEAD"),
        # Results written by earlier runs do not make the code differ from the commit.
        "git_dirty": bool(
            git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results")
        ),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def demo_inbox(scale: str, seed: int) -> tuple[Path, dict[str, Any]]:
    """The generated registry and inbox for a scale and seed, generated once and cached."""
    facilities, months = SCALES[scale]
    target = WORK / f"demo-{scale}-seed{seed}"
    manifest_path = target / "demo-manifest.json"
    timing_path = target / "generation.json"
    if not manifest_path.exists():
        partial = WORK / f".partial-demo-{scale}-seed{seed}"
        shutil.rmtree(partial, ignore_errors=True)
        print(
            f"[{scale}] generating the demo inbox ({facilities} facilities x {months} months)...", flush=True
        )
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(PYTHON).parent / "instep"),
                "demo-data",
                "--facilities",
                str(facilities),
                "--months",
                str(months),
                "--seed",
                str(seed),
                "--out",
                str(partial),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timing_path_partial = partial / "generation.json"
        timing_path_partial.write_text(json.dumps({"seconds": round(time.perf_counter() - started, 2)}))
        partial.replace(target)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    generation = json.loads(timing_path.read_text()) if timing_path.exists() else {}
    return target, {"files": manifest["files"], "rows": manifest["rows"], "generation": generation}


def fresh_workspace(scale: str, demo: Path) -> Path:
    """An empty workspace whose inbox holds the demo files (hard links: no copy of the data)."""
    workspace = WORK / f"workspace-{scale}"
    shutil.rmtree(workspace, ignore_errors=True)
    shutil.copytree(demo / "registry", workspace / "registry")
    inbox = workspace / "inbox"
    inbox.mkdir(parents=True)
    for path in (demo / "inbox").iterdir():
        try:
            os.link(path, inbox / path.name)
        except OSError:
            shutil.copyfile(path, inbox / path.name)
    return workspace


def present_stages() -> list[str]:
    """The stage groups of the asset graph that have assets now, in pipeline order."""
    import dagster as dg

    from pipelines.definitions import build_defs
    from pipelines.jobs import STAGES

    graph = build_defs().resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    del dg
    return [stage for stage in STAGES if stage in groups]


def new_submission(workspace: Path) -> tuple[str, int]:
    """One more submission: a restatement of the latest CSV file in the inbox (same rows, new values)."""
    import csv
    import io

    inbox = workspace / "inbox"
    # The latest well-formed CSV file (the demo plants faulty files too: other delimiters, encodings).
    for latest in sorted((p for p in inbox.iterdir() if p.suffix == ".csv"), reverse=True):
        try:
            rows = list(csv.reader(io.StringIO(latest.read_text(encoding="utf-8-sig"))))
        except UnicodeDecodeError:
            continue
        if rows and "value" in rows[0] and len(rows) > 1:
            break
    header, body = rows[0], rows[1:]
    value = header.index("value")
    for row in body:
        with contextlib.suppress(ValueError):
            row[value] = f"{float(row[value]) * 1.01:.3f}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    name = "9999-12-31_restatement.csv"
    (inbox / name).write_text(out.getvalue(), encoding="utf-8")
    return name, len(body)


def run_stages(workspace: Path, stages: list[str], rows: int) -> dict[str, Any]:
    """Each stage in a run of its own (the full rebuild, the republish); see `run_incremental`."""
    results: dict[str, Any] = {}
    for stage in stages:
        label = STAGE_LABELS.get(stage, stage)
        print(f"    {label} ...", end="", flush=True)
        measured = run_child("stage", workspace=workspace, group=stage)
        measured["rows_per_second"] = round(rows / measured["seconds"]) if measured["seconds"] else None
        print(f" {measured['seconds']:.1f} s", flush=True)
        results[label] = measured
    return results


def run_incremental(
    workspace: Path, stages: list[str], rows: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The runs the pipeline makes after one new file (`INCREMENTAL_RUNS`), each one Dagster run; returns
    each stage's share (its steps, and the sensor's tick for ingest) and the runs themselves (wall time,
    including what no step accounts for: planning the run, its events)."""
    per_stage: dict[str, Any] = {}
    runs: list[dict[str, Any]] = []
    for run_stages_ in INCREMENTAL_RUNS:
        present = [stage for stage in run_stages_ if stage in stages]
        if not present:
            continue
        print(f"    {' + '.join(present)} (one run) ...", end="", flush=True)
        extra = {"sensor": "1"} if "ingest" in present else {}
        measured = run_child("stage", workspace=workspace, group=",".join(present), **extra)
        tick = measured.get("sensor_tick_seconds", 0.0)
        steps_total = sum(measured["steps"].values())
        runs.append(
            {
                "stages": present,
                "seconds": round(measured["seconds"], 3),
                "steps_seconds": round(steps_total, 3),
                "sensor_tick_seconds": tick,
                "overhead_seconds": round(measured["seconds"] - steps_total - tick, 3),
                "startup_seconds": measured["startup_seconds"],
                "baseline_mb": measured["baseline_mb"],
                "peak_mb": measured["peak_mb"],
            }
        )
        print(f" {measured['seconds']:.1f} s", flush=True)
        for stage in present:
            steps = measured["steps_by_stage"].get(stage, {})
            seconds = sum(steps.values()) + (tick if stage == "ingest" else 0.0)
            entry: dict[str, Any] = {
                "seconds": round(seconds, 3),
                "steps": steps,
                "peak_mb": measured["peak_mb"],
                "rows_per_second": round(rows / seconds) if seconds else None,
            }
            if stage == "ingest":
                entry["sensor_tick_seconds"] = tick
            if stage == "validate" and "validation_phases" in measured:
                entry["validation_phases"] = measured["validation_phases"]
            per_stage[STAGE_LABELS.get(stage, stage)] = entry
    return per_stage, runs


def site_pages(workspace: Path) -> dict[str, Any] | None:
    """Pages and charts of the built site (chart bundles: one Vega-Lite spec each)."""
    built = workspace / "site-build" / "site"
    if not built.exists():
        return None
    index = built / "search" / "search_index.json"
    return {
        "pages": sum(1 for _ in built.rglob("*.html")),
        "charts": sum(1 for _ in built.rglob("*.vl.json")),
        "search_index_bytes": index.stat().st_size if index.is_file() else None,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def benchmark(scale: str, seed: int, sample_rows: int, publish_again: bool = True) -> dict[str, Any]:
    demo, inbox_info = demo_inbox(scale, seed)
    rows = inbox_info["rows"]
    stages = present_stages()
    print(f"[{scale}] {inbox_info['files']:,} files, {rows:,} rows; stages: {', '.join(stages)}", flush=True)
    workspace = fresh_workspace(scale, demo)

    print(f"[{scale}] full run", flush=True)
    full = run_stages(workspace, stages, rows)
    full_seconds = sum(s["seconds"] for s in full.values())
    disclosure = run_child("disclosure", workspace=workspace) if "publish" in stages else None

    print(f"[{scale}] incremental run after one new file", flush=True)
    name, new_rows = new_submission(workspace)
    # What the pipeline runs when a file lands: the inbox sensor's ingestion run, then the warehouse's
    # derived tables. A release and its site are cut by the steward, whole, and are timed apart.
    incremental, incremental_runs = run_incremental(workspace, stages, new_rows)
    incremental_seconds = sum(r["seconds"] for r in incremental_runs)
    republish: dict[str, Any] = {}
    if publish_again:
        print(f"[{scale}] release and site again after that file", flush=True)
        republish = run_stages(workspace, [s for s in stages if s not in WAREHOUSE_STAGES], new_rows)
    warehouse_labels = {STAGE_LABELS.get(stage, stage) for stage in WAREHOUSE_STAGES}
    warehouse_full_seconds = sum(s["seconds"] for label, s in full.items() if label in warehouse_labels)

    print(f"[{scale}] references: DuckDB read_csv, frictionless validate", flush=True)
    floor = run_child("duckdb", inbox=demo / "inbox")
    floor_per_row = floor["seconds"] / floor["rows"]
    fl = run_child(
        "frictionless",
        inbox=demo / "inbox",
        registry=demo / "registry",
        sample_rows=sample_rows,
        scratch=WORK / f"scratch-{scale}",
    )
    fl_seconds_extrapolated = fl["seconds"] / fl["rows"] * rows

    def seconds(stage: str) -> float | None:
        return full[stage]["seconds"] if stage in full else None

    ingest_validate = (seconds("ingest") or 0) + (seconds("validate") or 0)
    floor_scaled = floor_per_row * rows
    result = {
        "scale": scale,
        "seed": seed,
        "facilities": SCALES[scale][0],
        "months": SCALES[scale][1],
        "inbox": inbox_info,
        "stages_not_available": [STAGE_LABELS.get(s, s) for s in _all_stages() if s not in stages],
        "full_run": {"stages": full, "seconds": round(full_seconds, 2)},
        "incremental_run": {
            "new_file": name,
            "new_rows": new_rows,
            "stages": incremental,
            "runs": incremental_runs,
            "seconds": round(incremental_seconds, 2),
        },
        "republish_after_new_file": {
            "stages": republish,
            "seconds": round(sum(s["seconds"] for s in republish.values()), 2),
            "skipped": not publish_again,
        },
        "references": {
            "duckdb_read_csv": {**floor, "seconds_scaled_to_inbox_rows": round(floor_scaled, 2)},
            "frictionless_validate": {
                **fl,
                "sampled": fl["rows"] < rows,
                "seconds_extrapolated_to_inbox_rows": round(fl_seconds_extrapolated, 2),
            },
        },
        "ratios": {
            "ingest_over_duckdb_read_csv": ratio(seconds("ingest"), floor_scaled),
            "ingest_and_validate_over_duckdb_read_csv": ratio(ingest_validate, floor_scaled),
            "validate_over_frictionless_validate": ratio(seconds("validate"), fl_seconds_extrapolated),
            "incremental_over_full": ratio(incremental_seconds, full_seconds),
            "incremental_over_full_warehouse_stages": ratio(incremental_seconds, warehouse_full_seconds),
        },
        "validation_breakdown": {
            "full_run": validation_breakdown(full, rows, floor_per_row),
            "incremental_run": validation_breakdown(incremental, new_rows, floor_per_row),
        },
        "site": site_pages(workspace) if "site" in stages else None,
        "disclosure": disclosure,
    }
    if result["site"] is not None:
        seconds = full["site"]["seconds"]
        result["site"]["build_seconds"] = round(seconds, 2)
        result["site"]["seconds_per_page"] = round(seconds / result["site"]["pages"], 4)
        if "site" in republish:
            result["site"]["rebuild_seconds_after_new_file"] = round(republish["site"]["seconds"], 2)
    return result


def validation_breakdown(stages: dict[str, Any], rows: int, floor_per_row: float) -> dict[str, Any] | None:
    """Where the validate stage's time went: its steps (settling, the checks, the reports) and the phases
    of settling, each in seconds and as a multiple of DuckDB's read_csv time for the same rows."""
    validate = stages.get("validate")
    if not validate or "steps" not in validate:
        return None
    floor = floor_per_row * rows

    def item(seconds: float) -> dict[str, float | None]:
        return {"seconds": round(seconds, 3), "over_duckdb_read_csv": ratio(seconds, floor)}

    return {
        "rows": rows,
        "duckdb_read_csv_seconds_for_these_rows": round(floor, 3),
        "steps": {name: item(sec) for name, sec in sorted(validate["steps"].items(), key=lambda kv: -kv[1])},
        "settling_phases": {name: item(sec) for name, sec in validate.get("validation_phases", {}).items()},
    }


def _all_stages() -> tuple[str, ...]:
    from pipelines.jobs import STAGES

    return STAGES


def print_table(result: dict[str, Any]) -> None:
    rows = result["inbox"]["rows"]
    print(
        f"\n== {result['scale']}: {result['facilities']:,} facilities x {result['months']} months, "
        f"{result['inbox']['files']:,} files, {rows:,} rows =="
    )
    print(f"{'stage':<28}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}{'after 1 file':>14}")
    for label, full in result["full_run"]["stages"].items():
        incr = result["incremental_run"]["stages"].get(label) or result["republish_after_new_file"][
            "stages"
        ].get(label, {})
        print(
            f"{label:<28}{full['seconds']:>10.1f}{full['rows_per_second']:>12,}{full['peak_mb']:>10.0f}"
            f"{incr.get('seconds', float('nan')):>14.1f}"
        )
    for label in result["stages_not_available"]:
        print(f"{label:<28}{'not available':>20}")
    print(
        f"{'full run':<28}{result['full_run']['seconds']:>10.1f}{'':>32}"
        f"{result['incremental_run']['seconds']:>14.1f}  (ingest to scorecards after 1 file)"
    )
    floor = result["references"]["duckdb_read_csv"]
    fl = result["references"]["frictionless_validate"]
    print(
        f"{'ref: DuckDB read_csv':<28}{floor['seconds']:>10.1f}{round(floor['rows'] / floor['seconds']):>12,}"
        f"{floor['peak_mb']:>10.0f}   ({floor['rows']:,} CSV rows, {floor['files']:,} files)"
    )
    note = f"sample of {fl['rows']:,} rows, extrapolated" if fl["sampled"] else "all rows"
    print(
        f"{'ref: frictionless validate':<28}{fl['seconds_extrapolated_to_inbox_rows']:>10.1f}"
        f"{round(fl['rows'] / fl['seconds']):>12,}{fl['peak_mb']:>10.0f}   ({note})"
    )
    for run in ("full_run", "incremental_run"):
        breakdown = (result.get("validation_breakdown") or {}).get(run)
        if not breakdown:
            continue
        print(
            f"validate, {run.replace('_', ' ')} ({breakdown['rows']:,} rows; DuckDB read_csv of as many rows "
            f"{breakdown['duckdb_read_csv_seconds_for_these_rows']:.2f} s): seconds (x read_csv)"
        )
        for title, items in (("steps", breakdown["steps"]), ("settling", breakdown["settling_phases"])):
            cells = [
                f"{name} {v['seconds']:.2f} ({v['over_duckdb_read_csv'] or 0:.2f})"
                for name, v in items.items()
            ]
            print(f"  {title}: " + "; ".join(cells))
    incremental = result["incremental_run"]["stages"]
    tick = incremental.get("ingest", {}).get("sensor_tick_seconds")
    if tick is not None:
        stages = ", ".join(f"{label} {stage['seconds']:.1f} s" for label, stage in incremental.items())
        print(f"incremental run: inbox sensor tick (fresh cursor) {tick:.2f} s inside ingest; {stages}")
    for run in result["incremental_run"].get("runs", []):
        print(
            f"  run of {' + '.join(run['stages'])}: {run['seconds']:.1f} s, of which steps "
            f"{run['steps_seconds']:.1f} s, run overhead {run['overhead_seconds']:.1f} s; "
            f"peak {run['peak_mb']:.0f} MB"
        )
    print("ratios (time per row, ours / reference):")
    for key, value in result["ratios"].items():
        print(f"  {key:<44}{'n/a' if value is None else value:>8}")
    if result.get("disclosure"):
        d = result["disclosure"]
        print(
            f"disclosure: {d['park_cells_withheld']:,} park cells withheld of "
            f"{d['park_cells_withheld'] + d['park_cells_published']:,} "
            f"({100 * d['share_of_park_cells_withheld']:.1f} %), by rule {d['withheld_by_rule']}; "
            f"plan {d['plan_seconds']:.1f} s, audit {d['audit_seconds']:.1f} s "
            f"(inside the release stage), {d['audit_findings']} audit findings"
        )
    if result.get("site"):
        site = result["site"]
        print(
            f"site: {site['pages']:,} pages and {site['charts']:,} charts built in {site['build_seconds']} s "
            f"({site['seconds_per_page'] * 1000:.0f} ms a page); search index "
            f"{(site['search_index_bytes'] or 0) / 1024:,.0f} KiB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=[*SCALES, "all"], default="programme")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, help="Output file (default benchmarks/results/<scale>.json).")
    parser.add_argument("--frictionless-sample-rows", type=int, default=FRICTIONLESS_SAMPLE_ROWS)
    parser.add_argument(
        "--no-republish",
        action="store_true",
        help="Do not cut the release and build the site again after the new file (hours at global scale "
        "are mostly that second site build; the warehouse's incremental run is timed either way).",
    )
    # Internal: one measurement in a child process.
    parser.add_argument("--child", help=argparse.SUPPRESS)
    for name in ("workspace", "group", "inbox", "registry", "sample-rows", "scratch", "sensor"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "stage":
            measured = child_stage(Path(args.workspace), args.group, sensor=bool(args.sensor))
        elif args.child == "disclosure":
            measured = child_disclosure(Path(args.workspace))
        elif args.child == "duckdb":
            measured = child_duckdb(Path(args.inbox))
        else:
            measured = child_frictionless(
                Path(args.inbox), Path(args.registry), int(args.sample_rows), Path(args.scratch)
            )
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in measured.items()}))
        return 0

    WORK.mkdir(parents=True, exist_ok=True)
    scales = list(SCALES) if args.scale == "all" else [args.scale]
    about = machine()
    print(
        f"machine: {about['cores']} cores, {about['memory_gib']} GiB, {about['cpu_model']}; Python "
        f"{about['python']}, DuckDB {about['duckdb']}; commit {about['git_commit'][:10]}"
        f"{' (uncommitted changes)' if about['git_dirty'] else ''}; load {about['load_average_at_start']}"
    )
    for scale in scales:
        measured = benchmark(scale, args.seed, args.frictionless_sample_rows, not args.no_republish)
        result = {"machine": about, **measured}
        print_table(result)
        out = args.json if args.json and len(scales) == 1 else RESULTS / f"{scale}.json"
        if args.json and len(scales) > 1:
            out = args.json.with_name(f"{args.json.stem}-{scale}{args.json.suffix}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
