"""One release publication in its own process, killed with SIGKILL inside the DuckDB write.

    python -m tests.release_child WORKSPACE DATAPACKAGES --version V --release-date D [--kill-at-insert N]

With `--kill-at-insert N` the process kills itself when the release's DuckDB database is about to run
its N-th INSERT, half-way through writing the database file, as a power cut would.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from datetime import date
from pathlib import Path


class KillAtInsert:
    """A DuckDB connection that dies before its n-th INSERT."""

    def __init__(self, con: object, kill_at: int) -> None:
        self._con = con
        self._inserts = 0
        self._kill_at = kill_at

    def execute(self, sql: str, *args: object, **kwargs: object) -> object:
        if sql.lstrip().upper().startswith("INSERT"):
            self._inserts += 1
            if self._inserts == self._kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace", type=Path)
    parser.add_argument("datapackages", type=Path)
    parser.add_argument("--version", required=True)
    parser.add_argument("--release-date", required=True)
    parser.add_argument("--kill-at-insert", type=int)
    args = parser.parse_args(argv)

    from instep.release import database, publish_release
    from instep.settings import Settings
    from instep.warehouse import connect
    from tests.release_helpers import BASE_RESOURCES

    settings = Settings(
        workspace=args.workspace,
        datapackages_dir=args.datapackages,
        as_of=date.fromisoformat(args.release_date),
    )
    with connect(settings) as con:
        if args.kill_at_insert:
            # Only the release database's connections (opened after the warehouse's) are wrapped.
            real_connect = database.duckdb.connect

            def connect_and_kill(*c_args: object, **c_kwargs: object) -> KillAtInsert:
                return KillAtInsert(real_connect(*c_args, **c_kwargs), args.kill_at_insert)

            database.duckdb.connect = connect_and_kill  # type: ignore[assignment]
        release = publish_release(
            settings, version=args.version, release_date=args.release_date, con=con, resources=BASE_RESOURCES
        )
    print(f"published {release.version}: {release.published}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
