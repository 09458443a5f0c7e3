"""`instep check`: exit 0 valid, 1 invalid with a readable report, 2 unreadable; same rules as ingestion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import AS_OF, write_registry
from tests.test_ingest import FAULTY_ROWS, GOOD_ROWS, HEADER

INSTEP = [sys.executable, "-m", "instep"]


def run_check(*args: str | Path, registry: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INSTEP_AS_OF": AS_OF.isoformat()}
    return subprocess.run(
        [*INSTEP, "check", "--registry", str(registry), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_valid_file_exits_0(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(row + "\n" for row in GOOD_ROWS), encoding="utf-8")
    result = run_check(good, registry=registry)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: **valid**" in result.stdout


def test_invalid_file_exits_1_and_names_line_column_rule_and_expectation(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "".join(row + "\n" for row, _ in FAULTY_ROWS), encoding="utf-8")
    result = run_check(bad, registry=registry)
    assert result.returncode == 1, result.stderr
    for line, (_, rule) in enumerate(FAULTY_ROWS, start=2):
        assert f"| {line} |" in result.stdout
        assert f"`{rule}`" in result.stdout
    assert "| 4 | facility_id | `unknown_facility` | ET-HAW-F009 | a facility_id from the registry |" in (
        result.stdout
    )


def test_binary_file_exits_2(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02\x03")
    result = run_check(binary, registry=registry)
    assert result.returncode == 2
    assert "`unreadable_format`" in result.stdout and "file rejected as a whole" in result.stdout


def test_worst_verdict_decides_the_exit_status_of_several_files(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROWS[0] + "\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + FAULTY_ROWS[0][0] + "\n", encoding="utf-8")
    result = run_check(good, bad, "--quiet", registry=registry)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["good.csv: valid", "bad.csv: invalid"]


def test_missing_file_and_missing_registry_exit_2(tmp_path: Path):
    assert run_check(tmp_path / "nope.csv", registry=tmp_path).returncode == 2
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROWS[0] + "\n", encoding="utf-8")
    result = run_check(good, registry=tmp_path / "no-registry")
    assert result.returncode == 2
    assert "parks.csv: registry file not found" in result.stderr
