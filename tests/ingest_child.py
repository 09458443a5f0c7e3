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

The tests start it as `Child(argv, folder)`: forked from a server process that has imported the pipeline
once, so that a run starts in milliseconds; `python -m tests.ingest_child` runs it by hand.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.context
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


# ---------------------------------------------------------------- started from the tests

# What a run imports (Great Expectations above all: seconds), imported once by the fork server.
PRELOAD = ["instep.validate.suite", "great_expectations", "instep.ingest", "instep.registry", __name__]


def _run_with_output(argv: list[str], stdout: str, stderr: str) -> None:
    """The child's body: `main(argv)` with its standard output and error in the two files."""
    for fd, path in ((1, stdout), (2, stderr)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 (the process's own)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.exit(main(argv))


class Child:
    """One ingestion run in a process of its own, forked from a server that has imported the pipeline
    already (multiprocessing's fork server): a real process, killed with SIGKILL as any other, that
    starts in milliseconds instead of seconds of imports. Its output goes to two files in `folder`."""

    _context: multiprocessing.context.ForkServerContext | None = None

    def __init__(self, argv: list[str], folder: Path) -> None:
        if Child._context is None:
            Child._context = multiprocessing.get_context("forkserver")
            Child._context.set_forkserver_preload(PRELOAD)
        folder.mkdir(parents=True, exist_ok=True)
        self._out = folder / f"child-{time.monotonic_ns()}.out"
        self._err = self._out.with_suffix(".err")
        self._out.touch()
        self.process = Child._context.Process(
            target=_run_with_output, args=(argv, str(self._out), str(self._err))
        )
        self.process.start()

    def first_line(self, timeout: float = 600) -> str:
        """The first line the child prints (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self._out.read_text(encoding="utf-8")
            if "\n" in text:
                return text.split("\n", 1)[0]
            if not self.process.is_alive():
                break
            time.sleep(0.01)
        raise AssertionError(f"the child printed no line: {self._err.read_text(encoding='utf-8')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, unless it has ended (the fork server, its parent, has then reaped it)."""
        self.process.kill()

    def communicate(self, timeout: float = 600) -> tuple[str, str]:
        """Wait for the child to end; its standard output and error."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
            self.process.join()
            raise AssertionError(f"the child was still running after {timeout} s")
        return self._out.read_text(encoding="utf-8"), self._err.read_text(encoding="utf-8")

    @property
    def returncode(self) -> int | None:
        """The exit status; minus the signal's number when a signal ended it (SIGKILL: -9)."""
        return self.process.exitcode


if __name__ == "__main__":
    sys.exit(main())
