"""The inbox sensor: one ingestion run per new submission file, naming that file.

A tick looks only at files that are new or changed: the cursor remembers each inbox file's size and
modification time since the last tick, and the ledger (`inbox_fingerprints`) the fingerprint of every
file already read, so a fresh cursor (a new Dagster instance, a reset sensor) does not hash the whole
inbox again. Only the files left are hashed; a file is new when its content hash is not in the ledger.
Its run key is that hash, so the same content is never ingested twice, whatever its name, and its run
config names the file, so the run reads that file and nothing else.
"""

import json
from pathlib import Path

import dagster as dg

from assets.ingest import InboxSelection, raw_submission_files
from assets.resources import Workspace
from instep.ingest import file_fingerprint, file_sha256, inbox_files, recorded_fingerprints
from instep.settings import Settings
from instep.warehouse import WarehouseBusy, connect, writer_lock

TICK_SECONDS = 30
LEDGER_WAIT_SECONDS = 2.0


def fingerprint(path: Path) -> str:
    size, mtime_ns = file_fingerprint(path)
    return f"{size}:{mtime_ns}"


def inbox_fingerprints(inbox: Path) -> dict[str, str]:
    return {path.name: fingerprint(path) for path in inbox_files(inbox)}


def ledger_view(settings: Settings) -> tuple[set[str], dict[str, str]]:
    """Content hashes in the ledger and the fingerprints of the files read (raises WarehouseBusy while a
    run is writing)."""
    if not settings.warehouse_path.exists():
        return set(), {}
    with writer_lock(settings, timeout_s=LEDGER_WAIT_SECONDS), connect(settings, read_only=True) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "submission_files" not in tables:
            return set(), {}
        hashes = {row[0] for row in con.execute("SELECT file_hash FROM submission_files").fetchall()}
        prints = {name: f"{size}:{mtime}" for name, (size, mtime) in recorded_fingerprints(con).items()}
    return hashes, prints


def new_inbox_files(
    inbox: Path, changed: list[str], known: set[str], read: dict[str, str], current: dict[str, str]
) -> list[tuple[str, str]]:
    """(name, sha256) of the changed files whose content is not in the ledger, in inbox order.

    A file whose fingerprint the ledger recorded when it was read is not opened; the others are hashed.
    """
    found = []
    for name in changed:
        if read.get(name) == current[name]:
            continue
        try:
            file_hash = file_sha256(inbox / name)
        except FileNotFoundError:  # gone since the listing: looked at again if it comes back
            continue
        if file_hash in known:
            continue
        known.add(file_hash)
        found.append((name, file_hash))
    return found


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
            "sha256; run config: the file's name). Files whose content is already in the warehouse are "
            "not ingested again, and files read before and unchanged are not even hashed."
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
            known, read = ledger_view(settings)
        except WarehouseBusy:
            # Keep the old cursor: the changed files are looked at again on the next tick.
            return dg.SensorResult(skip_reason="a run is writing the warehouse; trying again next tick")
        found = new_inbox_files(settings.inbox_dir, changed, known, read, current)
        requests = [ingest_run_request(name, file_hash) for name, file_hash in found]
        context.log.info(f"{len(changed)} new or changed inbox files, {len(requests)} to ingest")
        cursor = json.dumps(current, sort_keys=True)
        if not requests:
            return dg.SensorResult(
                skip_reason="the new inbox files hold content already ingested", cursor=cursor
            )
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return inbox_sensor
