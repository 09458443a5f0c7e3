"""Mutation fuzzing of the submission readers: no input may crash them.

Starts from seed files (valid CSV, JSON and XLSX submissions and the hostile corpus), mutates them at
random (bit flips, inserted or deleted bytes, interesting bytes, truncation, splices of two seeds,
duplicated lines) and reads each result with `read_by_format`, the readers *without* the safety net of
`read_submission`. Any exception other than `UnreadableFile` is a crash: the input is saved and the run
ends with status 1. With `--ingest`, every batch of readable mutants is also staged and settled in an
in-memory warehouse and the row states must add up.

    python -m tests.fuzz.fuzz_readers --iterations 2000 --seed 1
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import traceback
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

from instep.readers import UnreadableFile, read_by_format

INTERESTING = [b"\x00", b"\xff", b"\xef\xbb\xbf", b'"', b",", b";", b"\n", b"\r", b"{", b"[", b"<", b"="]
SUFFIXES = (".csv", ".json", ".xlsx", "")


def seed_files(directory: Path) -> list[tuple[str, bytes]]:
    """Valid submissions in every format plus the hostile corpus (the small files of it)."""
    from tests.hostile_corpus import build_corpus, valid_csv

    seeds_dir = directory / "seeds"
    build_corpus(seeds_dir)
    (seeds_dir / "valid.csv").write_text(valid_csv(), encoding="utf-8")
    (seeds_dir / "valid.json").write_text(
        '{"records": [{"facility_id": "ET-HAW-F001", "period": "2024-01", "metric": "water.recycled",'
        ' "value": 10.5, "unit": "m3"}]}',
        encoding="utf-8",
    )
    return [
        (path.suffix, path.read_bytes())
        for path in sorted(seeds_dir.iterdir())
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 200_000
    ]


def mutate(data: bytes, other: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        position = rng.randrange(len(buffer) + 1)
        if choice == 0 and buffer:
            index = rng.randrange(len(buffer))
            buffer[index] ^= 1 << rng.randrange(8)
        elif choice == 1:
            buffer[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 2:
            del buffer[position : position + rng.randint(1, 16)]
        elif choice == 3:
            buffer[position:position] = rng.choice(INTERESTING) * rng.randint(1, 3)
        elif choice == 4:
            del buffer[position:]
        elif choice == 5:
            cut = rng.randrange(len(other) + 1)
            buffer[position:] = other[cut:]
        else:
            lines = bytes(buffer).split(b"\n")
            line = rng.randrange(len(lines))
            lines.insert(line, lines[line])
            buffer = bytearray(b"\n".join(lines))
    return bytes(buffer)


def mutate_workbook(data: bytes, other: bytes, rng: random.Random) -> bytes:
    """Mutate one member inside a workbook and zip it again, so the mutant gets past the zip layer."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
        members = source.infolist()
    except zipfile.BadZipFile:
        return mutate(data, other, rng)
    victim = rng.choice(members).filename
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in members:
            content = source.read(member.filename)
            if member.filename == victim:
                content = mutate(content, other, rng)
            target.writestr(member.filename, content)
    return out.getvalue()


def check_ingest(paths: list[Path]) -> None:
    """Stage and settle readable mutants; every row must end in exactly one state."""
    import duckdb

    from instep.ingest import stage_new_files
    from instep.registry import load_registry, read_registry
    from instep.validate import row_state_counts, settle_staged_rows
    from instep.warehouse import LEDGER_DDL
    from tests.conftest import write_registry

    with tempfile.TemporaryDirectory() as scratch:
        registry = read_registry(write_registry(Path(scratch) / "registry"))
        con = duckdb.connect(":memory:")
        try:
            con.execute(LEDGER_DDL)
            load_registry(con, registry)
            stage_new_files(con, Path(scratch), Path(scratch) / "archive", files=paths)
            settle_staged_rows(con, date(2026, 11, 25))
            for _, name, _, rows_read, accepted, rejected, superseded in row_state_counts(con).fetchall():
                if accepted + rejected + superseded != rows_read:
                    raise AssertionError(f"{name}: {accepted}+{rejected}+{superseded} != {rows_read}")
            observations = con.execute("SELECT count(*) FROM observations").fetchall()[0][0]
            accepted_rows = con.execute(
                "SELECT count(*) FROM submission_rows WHERE state = 'accepted'"
            ).fetchall()[0][0]
            if observations != accepted_rows:
                raise AssertionError(f"{observations} observations for {accepted_rows} accepted rows")
        finally:
            con.close()


def run(iterations: int, seed: int, crash_dir: Path, ingest_every: int = 0) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="instep-fuzz-") as scratch:
        work = Path(scratch)
        seeds = seed_files(work)
        batch: list[Path] = []
        for iteration in range(iterations):
            suffix, data = rng.choice(seeds)
            if data.startswith(b"PK\x03\x04") and rng.random() < 0.7:
                mutant = mutate_workbook(data, rng.choice(seeds)[1], rng)
            else:
                mutant = mutate(data, rng.choice(seeds)[1], rng)
            suffix = suffix if rng.random() < 0.8 else rng.choice(SUFFIXES)
            path = work / f"mutant-{iteration}{suffix}"
            path.write_bytes(mutant)
            try:
                table = read_by_format(path)
            except UnreadableFile as error:
                outcomes[f"unreadable:{error.rule}"] += 1
                path.unlink()
                continue
            except Exception:
                crash_dir.mkdir(parents=True, exist_ok=True)
                saved = crash_dir / f"crash-seed{seed}-{iteration}{suffix}"
                saved.write_bytes(mutant)
                outcomes["crash"] += 1
                print(f"CRASH on {saved}:\n{traceback.format_exc()}", file=sys.stderr)
                continue
            outcomes["rows"] += 1
            outcomes["rows read"] += len(table)
            if ingest_every:
                batch.append(path)
                if len(batch) >= ingest_every:
                    check_ingest(batch)
                    outcomes["ingest batches"] += 1
                    batch = []
            else:
                path.unlink()
        if batch:
            check_ingest(batch)
            outcomes["ingest batches"] += 1
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crash-dir", type=Path, default=Path("test-artifacts") / "fuzz-crashes")
    parser.add_argument(
        "--ingest", type=int, default=0, metavar="N", help="also stage and settle readable mutants, N a batch"
    )
    args = parser.parse_args(argv)
    outcomes = run(args.iterations, args.seed, args.crash_dir, args.ingest)
    print(f"fuzz_readers: {args.iterations} inputs, seed {args.seed}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    return 1 if outcomes["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
