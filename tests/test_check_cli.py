"""`instep check`: exit 0 valid, 1 invalid with a readable report, 2 unreadable; same rules as ingestion.

Each run gets an empty workspace of its own, so the default registry (the workspace's) is absent unless
a test passes one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from instep.settings import REPO_ROOT
from tests.cli_helpers import invoke_instep
from tests.conftest import AS_OF, write_registry
from tests.test_ingest import FAULTY_ROWS, GOOD_ROWS, HEADER

EXAMPLE = REPO_ROOT / "templates" / "example_submission.csv"


# `instep check`, then the top-level modules it imported, on stderr: the checker's install (README) has
# none of the pipeline's dependencies.
WITH_MODULES = [
    sys.executable,
    "-c",
    "import runpy, sys\n"
    "try:\n    runpy.run_module('instep', run_name='__main__')\n"
    "finally:\n    sys.stderr.write('modules: ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})))",
]
PIPELINE_ONLY = ("dagster", "dagster_webserver", "frictionless", "mkdocs", "material", "vl_convert", "yaml")


def run_check(
    *args: str | Path, workspace: Path, registry: Path | None = None, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`instep check` with these arguments: in this process through Click (the rules' modules are
    imported once), or as `command` in a process of its own when the test needs one."""
    env = {"INSTEP_AS_OF": AS_OF.isoformat(), "INSTEP_WORKSPACE": str(workspace)}
    argv = ["check", *(["--registry", str(registry)] if registry is not None else []), *map(str, args)]
    if command is not None:
        return subprocess.run(
            [*command, *argv], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
        )
    return invoke_instep(argv, env)


def test_example_in_an_empty_workspace_is_valid_and_says_ids_were_not_checked(tmp_path: Path):
    result = run_check(EXAMPLE, workspace=tmp_path / "empty", command=WITH_MODULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: valid (facility ids not checked: no registry)" in result.stdout
    assert "unknown_facility and facility_inactive" in result.stdout
    assert not (tmp_path / "empty").exists()  # a check writes nothing into the workspace
    imported = set(result.stderr.rsplit("modules: ", 1)[1].split())
    assert {"great_expectations", "duckdb", "expectations"} <= imported
    assert not imported & set(PIPELINE_ONLY)


def test_invalid_file_plain_text_report_names_line_column_rule_and_expectation(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "".join(row + "\n" for row, _ in FAULTY_ROWS), encoding="utf-8")
    # a facilities.csv alone is enough to check ids
    result = run_check(bad, workspace=tmp_path / "ws", registry=registry / "facilities.csv")
    assert result.returncode == 1, result.stderr
    for line, (_, rule) in enumerate(FAULTY_ROWS, start=2):
        assert f"  line {line}, " in result.stdout
        assert f", {rule}" in result.stdout
    expected_line = "  line 4, facility_id, unknown_facility: ET-HAW-F009\n      expected: a facility_id from"
    assert expected_line + " the registry\n" in result.stdout
    assert "not checked" not in result.stdout
    # plain text: no Markdown markup, no escapes
    assert "\\|" not in result.stdout and "**" not in result.stdout and "`" not in result.stdout


def test_markdown_and_html_formats(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    bad = tmp_path / "bad.csv"
    hostile = "ET-HAW-F001,2024-01,water.recycled,<b>x|y</b>,m3,,,"
    bad.write_text(HEADER + FAULTY_ROWS[2][0] + "\n" + hostile + "\n", encoding="utf-8")
    markdown = run_check("--format", "markdown", bad, workspace=tmp_path / "ws", registry=registry)
    assert markdown.returncode == 1
    assert "| 2 | facility_id | `unknown_facility` | ET-HAW-F009 | a facility_id from the registry |" in (
        markdown.stdout
    )
    assert "verdict: **2 of 2 rows rejected**" in markdown.stdout
    page = run_check("--format", "html", bad, workspace=tmp_path / "ws", registry=registry)
    assert page.returncode == 1
    assert page.stdout.startswith("<!DOCTYPE html>") and page.stdout.rstrip().endswith("</html>")
    assert "<td><code>unknown_facility</code></td><td>ET-HAW-F009</td>" in page.stdout
    assert "<b>" not in page.stdout


def test_without_registry_an_unknown_facility_passes_and_with_it_fails(tmp_path: Path):
    other = tmp_path / "other.csv"
    other.write_text(HEADER + FAULTY_ROWS[2][0] + "\n", encoding="utf-8")  # ET-HAW-F009, not registered
    without = run_check(other, "--quiet", workspace=tmp_path / "ws")
    assert without.returncode == 0
    assert without.stdout.splitlines() == ["other.csv: valid (facility ids not checked: no registry)"]
    # the workspace's registry is the default when there is one
    write_registry(tmp_path / "ws" / "registry")
    with_workspace = run_check(other, "--quiet", workspace=tmp_path / "ws")
    assert with_workspace.returncode == 1
    assert with_workspace.stdout.splitlines() == ["other.csv: invalid"]


def test_binary_file_exits_2(tmp_path: Path):
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02\x03")
    result = run_check(binary, workspace=tmp_path / "ws")
    assert result.returncode == 2
    assert "rule: unreadable_format" in result.stdout and "file rejected as a whole" in result.stdout


def test_worst_verdict_decides_the_exit_status_of_several_files(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROWS[0] + "\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + FAULTY_ROWS[0][0] + "\n", encoding="utf-8")
    result = run_check(good, bad, "--quiet", workspace=tmp_path / "ws", registry=registry)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["good.csv: valid", "bad.csv: invalid"]


def test_missing_file_and_missing_or_invalid_registry_exit_2(tmp_path: Path):
    assert run_check(tmp_path / "nope.csv", workspace=tmp_path / "ws").returncode == 2
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD_ROWS[0] + "\n", encoding="utf-8")
    result = run_check(good, workspace=tmp_path / "ws", registry=tmp_path / "no-registry")
    assert result.returncode == 2
    assert "parks.csv: registry file not found" not in result.stderr
    assert "no-registry: registry file not found" in result.stderr
    broken = tmp_path / "facilities.csv"
    broken.write_text("facility_id,park_id\nET-HAW-F001,ET-HAW\n", encoding="utf-8")
    result = run_check(good, workspace=tmp_path / "ws", registry=broken)
    assert result.returncode == 2
    assert "facilities.csv: missing columns" in result.stderr
