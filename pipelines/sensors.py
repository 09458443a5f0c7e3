"""The inbox sensor: one ingestion run per new submission file.

The cursor remembers each inbox file's size and modification time, so a tick only hashes files that
appeared or changed since the last one. A file is new when its content hash is not in the warehouse
ledger; its run key is that hash, so the same content is never ingested twice, whatever its name.
"""

import json
from pathlib import Path

import dagster as dg
import duckdb

from assets.ingest import InboxSelection, raw_submission_files
from assets.resources import Workspace
from instep.ingest import file_sha256, inbox_files
from instep.settings import Settings
from instep.warehouse import WarehouseBusy, connect, writer_lock

TICK_SECONDS = 30
LEDGER_WAIT_SECONDS = 2.0


def fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def inbox_fingerprints(inbox: Path) -> dict[str, str]:
    return {path.name: fingerprint(path) for path in inbox_files(inbox)}


def ingested_hashes(settings: Settings) -> set[str]:
    """Content hashes already in the ledger (raises WarehouseBusy while a run is writing)."""
    if not settings.warehouse_path.exists():
        return set()
    with writer_lock(settings, timeout_s=LEDGER_WAIT_SECONDS), connect(settings, read_only=True) as con:
        try:
            return {row[0] for row in con.execute("SELECT file_hash FROM submission_files").fetchall()}
        except duckdb.CatalogException:
            return set()


def ingest_run_request(file_name: str, file_hash: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=file_hash,
        run_config=dg.RunConfig(ops={raw_submission_files.op.name: InboxSelection(files=[file_name])}),
        tags={"instep/file": file_name[:200], "instep/sha256": file_hash},
    )


def build_inbox_sensor(job_name: str) -> dg.SensorDefinition:
    @dg.sensor(
        name="inbox_sensor",
        job_name=job_name,
        minimum_interval_seconds=TICK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches the workspace inbox and launches one ingestion run per new file (run key: the file's "
            "sha256). Files whose content is already in the warehouse are not ingested again."
        ),
    )
    def inbox_sensor(context: dg.SensorEvaluationContext, instep: Workspace) -> dg.SensorResult:
        settings = instep.settings()
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        current = inbox_fingerprints(settings.inbox_dir)
        changed = sorted(name for name, print_ in current.items() if seen.get(name) != print_)
        if not changed:
            return dg.SensorResult(
                skip_reason="no new files in the inbox", cursor=json.dumps(current, sort_keys=True)
            )
        try:
            known = ingested_hashes(settings)
        except WarehouseBusy:
            # Keep the old cursor: the changed files are looked at again on the next tick.
            return dg.SensorResult(skip_reason="a run is writing the warehouse; trying again next tick")
        requests = []
        for name in changed:
            file_hash = file_sha256(settings.inbox_dir / name)
            if file_hash in known:
                continue
            known.add(file_hash)
            requests.append(ingest_run_request(name, file_hash))
        context.log.info(f"{len(changed)} new or changed inbox files, {len(requests)} to ingest")
        cursor = json.dumps(current, sort_keys=True)
        if not requests:
            return dg.SensorResult(
                skip_reason="the new inbox files hold content already ingested", cursor=cursor
            )
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return inbox_sensor
