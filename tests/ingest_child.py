"""One ingestion run in its own process, for the crash and concurrency tests.

    python -m tests.ingest_child WORKSPACE [--as-of DATE] [--kill-at POINT] [--lock-timeout S]
                                           [--hold-lock-until FILE]

It does what a pipeline run does (registry, stage, settle) under the warehouse writer lock. `--kill-at`
makes the process SIGKILL itself at an injected point, the way a power cut or the OOM killer would:
  archive    after a raw file is copied to the archive's partial file, before it is renamed
  staged     after the staging transaction committed, before settling
  settling   inside the settling transaction, just before its COMMIT
`--hold-lock-until FILE` keeps the writer lock, once taken, until FILE exists. Prints "lock taken" when
it holds the lock. Exit status 0 done, 3 another run is writing (message on stderr).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path

EXIT_BUSY = 3


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillBeforeCommit:
    """A connection that dies when asked to COMMIT (only the settling step gets it)."""

    def __init__(self, con: object) -> None:
        self._con = con

    def execute(self, sql: str, *args: object, **kwargs: object) -> object:
        if sql.strip().upper() == "COMMIT":
            die()
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--as-of", default="2026-11-25")
    parser.add_argument("--kill-at", choices=["archive", "staged", "settling"])
    parser.add_argument("--lock-timeout", type=float, default=10.0)
    parser.add_argument("--hold-lock-until", type=Path)
    args = parser.parse_args(argv)

    from instep import warehouse
    from instep.ingest import stage_new_files
    from instep.registry import load_registry, read_registry
    from instep.settings import Settings
    from instep.validate import settle_staged_rows

    settings = Settings(
        workspace=args.workspace,
        datapackages_dir=args.workspace / "datapackages",
        as_of=date.fromisoformat(args.as_of),
    )
    if args.kill_at == "archive":
        real_replace = Path.replace

        def replace(self: Path, target: Path) -> Path:
            if self.name.endswith(".partial"):
                die()
            return real_replace(self, target)

        Path.replace = replace  # type: ignore[method-assign]
    try:
        with warehouse.writer_lock(settings, timeout_s=args.lock_timeout):
            print("lock taken", flush=True)
            while args.hold_lock_until and not args.hold_lock_until.exists():
                time.sleep(0.05)
            con = warehouse.duckdb.connect(str(settings.warehouse_path))
            try:
                con.execute(warehouse.LEDGER_DDL)
                load_registry(con, read_registry(settings.registry_dir))
                stage_new_files(con, settings.inbox_dir, settings.archive_dir)
                if args.kill_at == "staged":
                    die()
                settle = KillBeforeCommit(con) if args.kill_at == "settling" else con
                settle_staged_rows(settle, settings.as_of)  # type: ignore[arg-type]
            finally:
                con.close()
    except warehouse.WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
