"""Plausibility against the facility's own history: a thousandfold drop is rejected as implausible_change,
with the history median and how to confirm it; once confirmed in the registry, the next run accepts it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from instep import reference
from instep.settings import Settings
from instep.warehouse import connect
from tests.cli_helpers import invoke_instep
from tests.conftest import AS_OF
from tests.test_ingest import HEADER, ingest

F1 = "ET-HAW-F001"


def _history(months: int = 6, value: str = "212400") -> str:
    return "".join(
        f"{F1},2024-{m:02d},energy.electricity.grid,{value},kWh,,,\n" for m in range(1, months + 1)
    )


def _row(settings: Settings, period: str) -> tuple:
    with connect(settings) as con:
        return con.execute(
            "SELECT r.submission_id, r.row_number, r.state, r.rule, r.message, i.expected "
            "FROM submission_rows AS r LEFT JOIN row_issues AS i USING (submission_id, row_number) "
            "WHERE r.period = ? AND r.metric = 'energy.electricity.grid'",
            [period],
        ).fetchall()[0]


def test_factors_come_by_topic_with_metrics_of_their_own_left_out():
    checks = reference.history_checks()
    catalogue = reference.metrics()
    assert checks["energy.electricity.grid"].change_factor == 10
    assert {catalogue[m].topic for m in checks} == {
        "energy",
        "production",
        "water",
        "chemicals",
        "waste",
        "social",
    }
    # seasonal rainwater and small counts vary tenfold without an error
    for metric in ("water.withdrawal.rainwater", "ohs.injuries.lost_time", "grievances.gbv.received"):
        assert metric not in checks
    assert not any(catalogue[m].topic == "wastewater" for m in checks)


def test_a_thousandfold_drop_is_rejected_then_accepted_once_confirmed(workspace: Settings):
    (workspace.inbox_dir / "a.csv").write_text(HEADER + _history(), encoding="utf-8")
    ingest(workspace)
    (workspace.inbox_dir / "b.csv").write_text(
        HEADER + f"{F1},2024-07,energy.electricity.grid,212.400,kWh,,,\n", encoding="utf-8"
    )
    ingest(workspace)
    submission_id, row_number, state, rule, message, expected = _row(workspace, "2024-07")
    assert (state, rule) == ("rejected", "implausible_change")
    assert message.startswith(
        "212.400 kWh is 1/1,000.0 of the facility's median of 212,400.0 kWh over its last 12 accepted "
        "months (6 months) for energy.electricity.grid"
    )
    assert f"confirmations.csv (submission_id {submission_id}, row_number {row_number})" in message
    assert (
        expected
        == "between 21,240.0 and 2,124,000.0 kWh (the median 212,400.0 divided or multiplied by 10.0)"
    )

    (workspace.registry_dir / "confirmations.csv").write_text(
        "submission_id,row_number,facility_id,period,metric,note\n"
        f"{submission_id},{row_number},,,,meter replaced; reading confirmed by the factory\n",
        encoding="utf-8",
    )
    ingest(workspace)  # no new file: the confirmed row is judged again
    assert _row(workspace, "2024-07")[2:4] == ("accepted", None)
    with connect(workspace) as con:
        (value,) = con.execute(
            "SELECT value FROM observations WHERE period = '2024-07' AND metric = 'energy.electricity.grid'"
        ).fetchall()[0]
        counts = con.execute("SELECT state, count(*) FROM submission_rows GROUP BY ALL ORDER BY 1").fetchall()
    assert value == pytest.approx(212.4)
    assert counts == [("accepted", 7)]


def test_a_confirmation_by_facility_period_and_metric_also_counts(workspace: Settings):
    (workspace.registry_dir / "confirmations.csv").write_text(
        "submission_id,row_number,facility_id,period,metric,note\n"
        f",,{F1},2024-07,energy.electricity.grid,new production line\n",
        encoding="utf-8",
    )
    (workspace.inbox_dir / "a.csv").write_text(
        HEADER + _history() + f"{F1},2024-07,energy.electricity.grid,5000000,kWh,,,\n", encoding="utf-8"
    )
    ingest(workspace)
    assert _row(workspace, "2024-07")[2] == "accepted"


@pytest.mark.parametrize(
    ("value", "months", "state"),
    [
        ("30000", 6, "accepted"),  # a seventh of the median: within the factor
        ("21240", 6, "rejected"),  # exactly a tenth: a factor of 10 or more
        ("0", 6, "accepted"),  # zero is not a unit error
        ("212.4", 2, "accepted"),  # too little history to judge
    ],
)
def test_the_factor_and_the_history_needed(workspace: Settings, value: str, months: int, state: str):
    (workspace.inbox_dir / "a.csv").write_text(
        HEADER + _history(months) + f"{F1},2024-07,energy.electricity.grid,{value},kWh,,,\n",
        encoding="utf-8",
    )
    ingest(workspace)
    assert _row(workspace, "2024-07")[2] == state


def _check(settings: Settings, path: Path) -> subprocess.CompletedProcess[str]:
    env = {"INSTEP_AS_OF": AS_OF.isoformat(), "INSTEP_WORKSPACE": str(settings.workspace)}
    # the Markdown report, the pipeline's own, whose wording the assertions quote
    return invoke_instep(["check", "--format", "markdown", str(path)], env)


def test_check_gives_the_same_verdict_when_it_sees_the_warehouse_and_says_so_otherwise(
    workspace: Settings, tmp_path: Path
):
    drop = tmp_path / "drop.csv"
    drop.write_text(HEADER + f"{F1},2024-07,energy.electricity.grid,212.400,kWh,,,\n", encoding="utf-8")
    blind = _check(workspace, drop)
    assert blind.returncode == 0, blind.stdout + blind.stderr
    assert "note: no warehouse in the workspace: values were not compared with the facilities' history" in (
        blind.stdout
    )
    (workspace.inbox_dir / "a.csv").write_text(HEADER + _history(), encoding="utf-8")
    ingest(workspace)
    seeing = _check(workspace, drop)
    assert seeing.returncode == 1, seeing.stdout + seeing.stderr
    assert "`implausible_change`" in seeing.stdout
    assert "median of 212,400.0 kWh" in seeing.stdout
    assert "note:" not in seeing.stdout
