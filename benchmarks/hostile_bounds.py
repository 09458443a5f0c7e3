"""Time and peak memory of `instep check` on each hostile file whose cost a limit bounds.

    .venv/bin/python benchmarks/hostile_bounds.py [--case NAME]

Each case of the hostile corpus (tests/hostile_corpus.py) that once cost minutes or hit a limit is
checked in a fresh process, so that its peak memory is its own: the figures are the seconds of
`check_files` (imports excluded) and the process's peak resident memory (imports included). The
targets are under 10 s and 1 GB each; the script exits 1 if a case misses one. The figures are printed,
not asserted in the unit tests: a shared machine makes timings noisy.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.hostile_corpus import BOUND_CASES, CASES, TEXT_CASES, period_for  # noqa: E402

# The bounded cases: the reading limits, and the texts that once stopped a stage far from the reader.
UNBOUNDED = {"multiline_comment.csv", "bidi_override.csv"}
BOUNDED = (
    *(case.name for case in (*BOUND_CASES, *TEXT_CASES) if case.name not in UNBOUNDED),
    *("nested.json", "long_cell.csv", "huge_string.json", "zip_bomb.xlsx", "huge_integer.json"),
)
MAX_SECONDS = 10.0
MAX_MB = 1024.0


def measure(name: str) -> dict[str, object]:
    """Check one case in this process: seconds of the check, peak resident MB, the verdict."""
    from datetime import date

    from instep.check import check_files
    from instep.registry import read_registry
    from tests.conftest import write_registry

    index = next(i for i, case in enumerate(CASES) if case.name == name)
    case = CASES[index]
    with tempfile.TemporaryDirectory(prefix="instep-bounds-") as scratch:
        root = Path(scratch)
        registry = read_registry(write_registry(root / "registry"))
        path = root / case.name
        case.build(path, period_for(index))
        started = time.perf_counter()
        (verdict,) = check_files([path], registry, date(2026, 11, 25))
        seconds = time.perf_counter() - started
        size = path.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    outcome = verdict.unreadable_rule or f"{verdict.rows_read} rows, {verdict.rows_rejected} rejected"
    return {"case": name, "bytes": size, "seconds": seconds, "peak_mb": peak_mb, "outcome": outcome}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", help="measure one case in this process and print it as JSON")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(measure(args.case)))
        return 0
    missed = 0
    print(f"{'case':34} {'bytes':>11} {'seconds':>8} {'peak MB':>8}  outcome")
    for name in BOUNDED:
        child = subprocess.run(
            [sys.executable, __file__, "--case", name], capture_output=True, text=True, check=False
        )
        if child.returncode != 0:
            print(f"{name:34} failed: {child.stderr.strip().splitlines()[-1:]}")
            missed += 1
            continue
        row = json.loads(child.stdout.strip().splitlines()[-1])
        within = row["seconds"] < MAX_SECONDS and row["peak_mb"] < MAX_MB
        missed += not within
        print(
            f"{name:34} {row['bytes']:>11,} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f}  {row['outcome']}"
            + ("" if within else "  OVER THE TARGET")
        )
    print(f"targets: under {MAX_SECONDS:.0f} s and {MAX_MB:.0f} MB per case; {missed} missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
