"""End to end on a small synthetic demo: ingest, validate, indicators and scorecards through Dagster,
then disclosure; the scorecards are recomputed from the published park-year rows and the rubric file."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from assets import ASSETS, keys
from assets.resources import InstepWorkspace
from instep.demo.generate import generate_demo
from instep.scoring import load_rubric, scorecard_rows
from instep.settings import Settings
from instep.warehouse import connect

STAGES = {"ingest", "validate", "indicators", "scorecards"}
# The scorecards are scored from the published park_annual: disclosure (pub_tables) runs before them.
PUBLISHED = dg.AssetSelection.assets(keys.PUB_TABLES)


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("demo")
    generate_demo(root, facilities=8, months=14, seed=1)
    settings = Settings(workspace=root, datapackages_dir=root / "datapackages", as_of=date(2026, 1, 31))
    selected = [
        a for a in ASSETS if set(a.group_names_by_key.values()) <= STAGES or keys.PUB_TABLES in a.keys
    ]
    result = dg.materialize(
        selected,
        resources={"instep": InstepWorkspace.from_settings(settings)},
        selection=dg.AssetSelection.groups(*STAGES) | PUBLISHED,
    )
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["park_sums_match_facility_sums"]
    return settings


def _rows(settings: Settings, sql: str) -> list[dict]:
    with connect(settings) as con:
        relation = con.execute(sql)
        names = [d[0] for d in relation.description]
        return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def test_every_stage_table_is_filled(demo_workspace: Settings):
    for table in (
        "out_facility_monthly",
        "out_park_monthly",
        "out_park_annual",
        "out_wastewater_results",
        "out_data_quality",
        "out_scorecards",
    ):
        (count,) = _rows(demo_workspace, f"SELECT count(*) AS n FROM {table}")[0].values()
        assert count > 0, table
    parks = {r["park_id"] for r in _rows(demo_workspace, "SELECT DISTINCT park_id FROM pub_park_annual")}
    assert parks == {"ET-HAW", "KE-ATH", "VN-NTR", "VN-PHL"}


def test_every_scorecard_number_is_recomputed_from_published_park_years_and_the_rubric(
    demo_workspace: Settings,
):
    park_years = _rows(demo_workspace, "SELECT * FROM pub_park_annual")
    published = _rows(demo_workspace, "SELECT * FROM pub_scorecards")
    gwp_sets = {row["gwp_set"] for row in published}
    assert gwp_sets == {demo_workspace.gwp_set}
    recomputed = scorecard_rows(park_years, load_rubric(1), demo_workspace.gwp_set)
    key = ("park_id", "year", "pillar", "component")
    by_key = {tuple(r[k] for k in key): r for r in recomputed}
    assert len(by_key) == len(published)
    for row in published:
        expected = by_key[tuple(row[k] for k in key)]
        for column in ("value", "floor", "target", "weight", "score"):
            if expected[column] is None:
                assert row[column] is None, (row, column)
            else:
                assert row[column] == pytest.approx(expected[column], rel=1e-12), (row, column)
        assert (row["status"], row["na_reason"], row["rubric_version"]) == (
            expected["status"],
            expected["na_reason"],
            1,
        )


def test_central_boiler_steam_is_not_added_to_park_energy(demo_workspace: Settings):
    (row,) = _rows(
        demo_workspace,
        """
        SELECT p.energy_total_gj AS park, sum(f.energy_total_gj) AS facilities,
               sum(f.steam_purchased_gj) AS steam, any_value(p.steam_from_central_boiler_gj) AS shown
        FROM out_park_monthly p JOIN out_facility_monthly f USING (park_id, period)
        WHERE (p.park_id, p.period) = (
            SELECT (park_id, period) FROM out_park_monthly WHERE park_id = 'VN-NTR'
            ORDER BY steam_from_central_boiler_gj DESC NULLS LAST LIMIT 1)
        GROUP BY p.energy_total_gj
        """,
    )
    assert row["steam"] > 0
    assert row["shown"] == pytest.approx(row["steam"])
    assert row["park"] == pytest.approx(row["facilities"] - row["steam"])


def test_published_tables_match_their_metadata(demo_workspace: Settings):
    from instep.metadata.resources import COMPUTED_RESOURCES

    for spec in COMPUTED_RESOURCES:
        columns = _rows(demo_workspace, f"SELECT * FROM pub_{spec.name} LIMIT 0")
        with connect(demo_workspace) as con:
            names = tuple(d[0] for d in con.execute(f"SELECT * FROM pub_{spec.name} LIMIT 0").description)
        assert names == spec.field_names, spec.name
        assert columns == []
