"""Parts never exceed wholes: within a file, across the files of a batch and against accepted values,
in `instep check` and in the pipeline alike (one suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from instep import reference
from instep.settings import Settings
from instep.warehouse import connect
from tests.conftest import write_registry
from tests.test_check_cli import run_check
from tests.test_ingest import HEADER, ingest

GRID = "ET-HAW-F001,2024-01,energy.electricity.grid,100000,kWh,,,"
CONTRACT_ABOVE = "ET-HAW-F001,2024-01,energy.electricity.renewable_contract,130000,kWh,,,"
CONTRACT_WITHIN = "ET-HAW-F001,2024-01,energy.electricity.renewable_contract,40000,kWh,,,"
OUTPUT = "ET-HAW-F001,2024-01,production.output_mass,50000,kg,,,"


def _write(path: Path, *rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _states(settings: Settings) -> dict[str, tuple[str, str | None, str | None]]:
    with connect(settings) as con:
        rows = con.execute(
            "SELECT metric, value, state, rule, message FROM submission_rows ORDER BY file_seq, row_number"
        ).fetchall()
    return {f"{metric}={value}": (state, rule, message) for metric, value, state, rule, message in rows}


def test_every_relation_names_catalogue_metrics_of_one_unit():
    relations = reference.metric_relations()
    assert {r.relation for r in relations} >= {"renewable_within_grid", "mrsl_within_inventory"}
    for r in relations:
        units = {reference.metrics()[m].canonical_unit for m in r.metrics}
        assert len(units) == 1, r


def test_a_contract_above_grid_is_rejected_by_check_with_both_metrics_values_and_the_rule(tmp_path: Path):
    registry = write_registry(tmp_path / "registry")
    bad = _write(tmp_path / "bad.csv", GRID, CONTRACT_ABOVE, OUTPUT)
    result = run_check("--format", "markdown", bad, workspace=tmp_path / "ws", registry=registry)
    assert result.returncode == 1, result.stdout + result.stderr
    # the whole's row (line 2) and the part's row (line 3); the output row (line 4) is valid
    assert "| 2 | value | `part_exceeds_whole` | 100000 |" in result.stdout
    assert "| 3 | value | `part_exceeds_whole` | 130000 |" in result.stdout
    assert "| 4 |" not in result.stdout
    assert "at most energy.electricity.grid = 100,000.0 kWh" in result.stdout
    assert (
        "energy.electricity.renewable_contract 130,000.0 kWh is more than energy.electricity.grid "
        "100,000.0 kWh for ET-HAW-F001 2024-01 (renewable_within_grid:"
    ) in result.stdout
    good = _write(tmp_path / "good.csv", GRID, CONTRACT_WITHIN, OUTPUT)
    assert run_check(good, workspace=tmp_path / "ws", registry=registry).returncode == 0


def test_the_pipeline_rejects_the_same_pair_and_publishes_no_share_above_100(workspace: Settings):
    _write(workspace.inbox_dir / "a.csv", GRID, CONTRACT_ABOVE, OUTPUT)
    ingest(workspace)
    states = _states(workspace)
    assert states["energy.electricity.grid=100000"][:2] == ("rejected", "part_exceeds_whole")
    assert states["energy.electricity.renewable_contract=130000"][:2] == ("rejected", "part_exceeds_whole")
    assert states["production.output_mass=50000"][:2] == ("accepted", None)
    message = states["energy.electricity.renewable_contract=130000"][2]
    assert "renewable_contract 130,000.0 kWh is more than energy.electricity.grid 100,000.0 kWh" in message


def test_a_part_in_a_later_file_of_the_batch_is_judged_against_the_whole_of_an_earlier_file(
    workspace: Settings,
):
    _write(workspace.inbox_dir / "a.csv", GRID, OUTPUT)
    _write(workspace.inbox_dir / "b.csv", CONTRACT_ABOVE)
    ingest(workspace)
    states = _states(workspace)
    assert states["energy.electricity.renewable_contract=130000"][:2] == ("rejected", "part_exceeds_whole")
    assert states["energy.electricity.grid=100000"][:2] == ("rejected", "part_exceeds_whole")


def test_a_part_is_judged_against_the_whole_already_accepted(workspace: Settings):
    _write(workspace.inbox_dir / "a.csv", GRID, OUTPUT)
    ingest(workspace)
    _write(workspace.inbox_dir / "b.csv", CONTRACT_ABOVE)
    ingest(workspace)
    states = _states(workspace)
    assert states["energy.electricity.grid=100000"][0] == "accepted"
    state, rule, message = states["energy.electricity.renewable_contract=130000"]
    assert (state, rule) == ("rejected", "part_exceeds_whole")
    assert "energy.electricity.grid 100,000.0 kWh" in message
    # a restated whole that is large enough lets the part in
    _write(
        workspace.inbox_dir / "c.csv",
        "ET-HAW-F001,2024-01,energy.electricity.grid,150000,kWh,,,",
        CONTRACT_ABOVE,
    )
    ingest(workspace)
    with connect(workspace) as con:
        accepted = dict(
            con.execute(
                "SELECT metric, value FROM observations WHERE metric LIKE 'energy.electricity.%'"
            ).fetchall()
        )
    assert accepted == {
        "energy.electricity.grid": 150000.0,
        "energy.electricity.renewable_contract": 130000.0,
    }


@pytest.mark.parametrize(
    ("rows", "part"),
    [
        (
            [
                "ET-HAW-F001,2024-01,waste.hazardous,100,kg,,,",
                "ET-HAW-F001,2024-01,waste.non_hazardous,200,kg,,,",
                "ET-HAW-F001,2024-01,waste.recycled,350,kg,,,",
            ],
            "waste.recycled=350",
        ),
        (
            [
                "ET-HAW-F001,2024-01,chemicals.products.total,80,count,,,",
                "ET-HAW-F001,2024-01,chemicals.products.zdhc_level1plus,81,count,,,",
            ],
            "chemicals.products.zdhc_level1plus=81",
        ),
        (
            [
                "ET-HAW-F001,2024-01,ohs.injuries.recordable,2,count,,,",
                "ET-HAW-F001,2024-01,ohs.injuries.lost_time,3,count,,,",
            ],
            "ohs.injuries.lost_time=3",
        ),
    ],
)
def test_every_declared_relation_is_checked(workspace: Settings, rows: list[str], part: str):
    _write(workspace.inbox_dir / "a.csv", *rows)
    ingest(workspace)
    states = _states(workspace)
    assert states[part][:2] == ("rejected", "part_exceeds_whole")
