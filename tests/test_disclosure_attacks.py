"""The attacks of the methodology's attack model, tried as a reader would on real demo releases.

The demo (the README's main command's data) is released, then one facility that publishes only in park
totals restates a month that the first release showed inside a park total, and the next release is cut.
Each test subtracts published tables from one another, as a brand analyst would, and compares with what
the warehouse knows the hidden facilities reported. Planted leaks show the release audit catches them.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets import ASSETS
from assets.resources import InstepWorkspace
from instep.demo import generate_demo
from instep.disclosure import rules
from instep.disclosure.audit import DisclosureLeak, audit_release
from instep.disclosure.cells import hidden_cells, hidden_cells_by_park, park_batches
from instep.disclosure.history import earlier_releases
from instep.disclosure.plan import plan_disclosure, withheld_rows
from instep.indicators.formulas import IDENTITIES, RATIOS, STOCKS, ratio_inputs
from instep.indicators.park import PARK_ADDITIVE
from instep.release import publish_release
from instep.release.pub_tables import build_pub_tables
from instep.settings import Settings
from instep.warehouse import connect
from pipelines.runs import release_run_config
from tests.conftest import AS_OF
from tests.release_helpers import frictionless_validate

P = rules.parameters().p
# Columns a facility adds to its park unchanged (the central-boiler rule changes steam and total energy).
SIMPLE = [
    c
    for c in PARK_ADDITIVE
    if c
    not in {
        "steam_purchased_gj",
        "energy_total_gj",
        "steam_from_central_boiler_gj",
        "grievances_gbv_received",
    }
]
FLOWS = [c for c in SIMPLE if c not in STOCKS]
KEYS = ["park_id", "period"]


def _release(settings: Settings, version: str, release_date: str) -> None:
    chain = [a for a in ASSETS if "site" not in set(a.group_names_by_key.values())]
    result = dg.materialize(
        chain,
        resources={"instep": InstepWorkspace.from_settings(settings)},
        run_config=release_run_config(version, release_date),
    )
    assert result.success


def _data(release: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(release / "data" / f"{name}.parquet")


def _hidden(settings: Settings) -> pd.DataFrame:
    with connect(settings) as con:
        return con.execute("SELECT * FROM out_facility_monthly WHERE disclosure = 'aggregate_only'").df()


def _withheld(frame: pd.DataFrame) -> pd.Series:
    return frame["suppressed_fields"].fillna("").str.split(";")


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("disclosure")
    generate_demo(root / "ws")
    settings = Settings(workspace=root / "ws", datapackages_dir=root / "datapackages", as_of=AS_OF)
    _release(settings, "1.0.0", "2026-11-25")
    package = settings.datapackages_dir / settings.package_name
    first = package / "1.0.0"
    hidden_before = _hidden(settings)
    # A hidden factory of the park with the most of them restates a month the release showed inside
    # the park's grid electricity total.
    park_monthly = _data(first, "park_monthly")
    counts = hidden_before.groupby("park_id")["facility_id"].nunique()
    park = counts.idxmax()
    shown = park_monthly[(park_monthly.park_id == park) & park_monthly.electricity_grid_kwh.notna()]
    candidates = hidden_before[
        (hidden_before.park_id == park)
        & hidden_before.electricity_grid_kwh.gt(0)
        & hidden_before.period.isin(shown.period)
    ].sort_values(["period", "facility_id"])
    assert not candidates.empty, "the demo must show a park total with a hidden factory's grid electricity"
    restated = candidates.iloc[len(candidates) // 2]
    (settings.inbox_dir / "zz-late-restatement.csv").write_text(
        "facility_id,period,metric,value,unit,sample_point,sample_date,comment\n"
        f"{restated.facility_id},{restated.period},energy.electricity.grid,"
        f"{restated.electricity_grid_kwh * 1.5:.0f},kWh,,,meter reading corrected\n",
        encoding="utf-8",
    )
    _release(settings, "1.1.0", "2026-12-01")
    return {
        "settings": settings,
        "package": package,
        "first": first,
        "second": package / "1.1.0",
        "hidden_before": hidden_before,
        "hidden": _hidden(settings),
        "restated": restated,
    }


def _residuals(release: Path) -> pd.DataFrame:
    """Park value minus the published facilities, per park-month and column: what the reader computes."""
    park = _data(release, "park_monthly").set_index(KEYS)
    facilities = _data(release, "facility_monthly").groupby(KEYS)[SIMPLE].sum(min_count=1)
    residual = park[SIMPLE] - facilities.reindex(park.index).fillna(0.0)
    withheld = _withheld(park.reset_index())
    for i, columns in enumerate(withheld):
        for column in columns:
            if column in residual.columns:
                residual.iloc[i, residual.columns.get_loc(column)] = float("nan")
    return residual


def test_the_demo_has_a_park_where_the_rules_bite_and_one_where_they_mostly_do_not(releases):
    park_monthly = _data(releases["second"], "park_monthly")
    hidden = releases["hidden"].groupby("park_id")["facility_id"].nunique()
    few = [p for p, n in hidden.items() if n < rules.parameters().min_contributors]
    many = [p for p, n in hidden.items() if n >= rules.parameters().min_contributors]
    assert few and many
    share = {
        p: park_monthly[park_monthly.park_id == p]["output_kg"].notna().mean()
        for p in park_monthly.park_id.unique()
    }
    assert all(share[p] < 0.1 for p in few)  # one or two hidden factories: their output is never shown
    assert max(share[p] for p in many) > 0.5  # with enough of them, most months are


def test_park_minus_published_facilities_recovers_no_hidden_value_or_pair(releases):
    residual = _residuals(releases["second"])
    hidden = releases["hidden"]
    checked = 0
    for (park, period), values in hidden.groupby(KEYS):
        if (park, period) not in residual.index:
            continue
        row = residual.loc[(park, period)]
        for column in SIMPLE:
            shown = row[column]
            parts = [v for v in values[column].dropna() if v != 0]
            if pd.isna(shown) or not parts:
                continue
            checked += 1
            for part in parts:
                assert abs(shown - part) > P * part, (park, period, column, shown, part)
            for a, b in itertools.combinations(parts, 2):
                assert abs(shown - (a + b)) > 1e-9 * max(1.0, shown), (park, period, column, "pair")
    assert checked > 100  # the attack had published cells to work on


def test_park_year_minus_published_months_recovers_no_sensitive_month(releases):
    second = releases["second"]
    annual = _data(second, "park_annual").set_index(["park_id", "year"])
    monthly = _data(second, "park_monthly")
    withheld_annual = dict(zip(annual.index, _withheld(annual.reset_index()), strict=True))
    hidden = releases["hidden"]
    for (park, year), months in monthly.groupby(["park_id", "year"]):
        months_withheld = dict(zip(months.period, _withheld(months), strict=True))
        for column in FLOWS:
            if column in withheld_annual[(park, year)] or pd.isna(annual.loc[(park, year), column]):
                continue
            gaps = [p for p, cols in months_withheld.items() if column in cols]
            if len(gaps) != 1:
                continue
            parts = hidden[(hidden.park_id == park) & (hidden.period == gaps[0])][column].dropna()
            # a zero has no size to protect (it is withheld only so that withholding shows nothing)
            assert rules.sensitivity(parts) is None or not parts.any(), (park, gaps[0], column, "from year")


def test_sums_of_columns_recover_no_sensitive_cell(releases):
    monthly = _data(releases["second"], "park_monthly")
    hidden = releases["hidden"]
    simple_identities = [i for i in IDENTITIES if all(isinstance(c, float) for _, c in i.parts)]
    for row, withheld in zip(monthly.itertuples(), _withheld(monthly), strict=True):
        for identity in simple_identities:
            members = [identity.total, *(c for c, _ in identity.parts)]
            gaps = [m for m in members if m in withheld]
            if len(gaps) != 1 or gaps[0] not in SIMPLE:
                continue
            parts = hidden[(hidden.park_id == row.park_id) & (hidden.period == row.period)][gaps[0]].dropna()
            assert rules.sensitivity(parts) is None, (row.park_id, row.period, gaps[0], identity.total)


def test_a_published_ratio_never_rests_on_a_withheld_amount(releases):
    """Intensity times the published output would give the withheld emissions, and so on."""
    for name in ("park_monthly", "park_annual"):
        table = _data(releases["second"], name)
        for ratio in RATIOS:
            inputs = set(ratio_inputs(ratio, PARK_ADDITIVE))
            for value, withheld in zip(table[ratio.column], _withheld(table), strict=True):
                assert pd.isna(value) or not inputs & set(withheld), (name, ratio.column)


def test_the_next_release_minus_the_first_does_not_give_the_restated_facilitys_change(releases):
    restated = releases["restated"]
    first, second = _residuals(releases["first"]), _residuals(releases["second"])
    change = restated.electricity_grid_kwh * 0.5
    both = first.index.intersection(second.index)
    difference = second.loc[both, "electricity_grid_kwh"] - first.loc[both, "electricity_grid_kwh"]
    assert not (difference.dropna().sub(change).abs() <= 1e-6 * change).any()
    park_monthly = _data(releases["second"], "park_monthly").set_index(KEYS)
    rules_text = park_monthly.loc[(restated.park_id, restated.period), "suppression_rules"]
    assert f"electricity_grid_kwh: {rules.RESTATEMENT}" in rules_text


def test_both_releases_pass_frictionless_and_the_audit(releases):
    with connect(releases["settings"]) as con:
        for release in (releases["first"], releases["second"]):
            result = frictionless_validate(release)
            assert result.returncode == 0, result.stdout[-2000:]
        earlier = [r for r in earlier_releases(releases["package"]) if r.version != "1.1.0"]
        assert audit_release(con, releases["second"], releases["package"], earlier=earlier) == []


def _tamper(release: Path, target: Path, name: str, park: str, key: str, column: str, value: float) -> None:
    shutil.copytree(release, target)
    path = target / "data" / f"{name}.parquet"
    frame = pq.read_table(path).to_pandas()
    key_column = "period" if name == "park_monthly" else "year"
    at = (frame.park_id == park) & (frame[key_column].astype(str) == key)
    frame.loc[at, column] = value
    frame.loc[at, "suppressed_fields"] = frame.loc[at, "suppressed_fields"].map(
        lambda text: ";".join(c for c in (text or "").split(";") if c != column) or None
    )
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def test_the_audit_names_a_planted_leak_park_whose_only_hidden_facility_is_unsuppressed(releases, tmp_path):
    settings, second = releases["settings"], releases["second"]
    hidden = releases["hidden"]
    counts = hidden.groupby("park_id")["facility_id"].nunique()
    alone = hidden[hidden.park_id.isin(counts[counts < 3].index) & hidden.chemicals_kg.gt(0)].iloc[0]
    with connect(settings) as con:
        true_value = con.execute(
            "SELECT chemicals_kg FROM out_park_monthly WHERE park_id = ? AND period = ?",
            [alone.park_id, alone.period],
        ).fetchone()[0]
        tampered = tmp_path / "tampered"
        _tamper(second, tampered, "park_monthly", alone.park_id, alone.period, "chemicals_kg", true_value)
        earlier = [r for r in earlier_releases(releases["package"]) if r.version != "1.1.0"]
        findings = audit_release(con, tampered, releases["package"], earlier=earlier)
    named = {(f.cell, f.attack) for f in findings}
    assert ((alone.park_id, "M", alone.period, "chemicals_kg"), "published") in named


def test_the_audit_finds_a_withheld_cell_given_back_by_its_complement(releases, tmp_path):
    settings, second = releases["settings"], releases["second"]
    monthly = _data(second, "park_monthly")
    secondary = [
        (row.park_id, row.period, entry.split(": ")[0])
        for row in monthly.itertuples()
        for entry in str(row.suppression_rules or "").split("; ")
        if entry.endswith(f": {rules.SECONDARY}") and entry.split(": ")[0] in FLOWS
    ]
    assert secondary, "the demo needs secondary suppression"
    earlier = [r for r in earlier_releases(releases["package"]) if r.version != "1.1.0"]
    with connect(settings) as con:
        for n, (park, period, column) in enumerate(secondary[:25]):
            true_value = con.execute(
                f"SELECT {column} FROM out_park_monthly WHERE park_id = ? AND period = ?", [park, period]
            ).fetchone()[0]
            tampered = tmp_path / f"complement-{n}"
            _tamper(second, tampered, "park_monthly", park, period, column, true_value)
            findings = audit_release(con, tampered, releases["package"], earlier=earlier)
            if any(f.attack == "linear relations" for f in findings):
                return
    pytest.fail("no complement, once published, let the audit bound the cell it protects")


def test_the_release_is_refused_naming_the_cell_when_the_warehouse_tables_leak(releases):
    settings = releases["settings"]
    hidden = releases["hidden"]
    counts = hidden.groupby("park_id")["facility_id"].nunique()
    alone = hidden[hidden.park_id.isin(counts[counts < 3].index) & hidden.water_municipal_m3.gt(0)].iloc[0]
    with connect(settings) as con:
        con.execute(
            "UPDATE pub_park_monthly SET water_municipal_m3 = o.water_municipal_m3, "
            "suppressed_fields = NULL, suppression_rules = NULL FROM out_park_monthly AS o "
            "WHERE o.park_id = pub_park_monthly.park_id AND o.period = pub_park_monthly.period "
            "AND pub_park_monthly.park_id = ? AND pub_park_monthly.period = ?",
            [alone.park_id, alone.period],
        )
        with pytest.raises(DisclosureLeak) as refused:
            publish_release(settings, version="9.9.9", release_date="2026-12-02", con=con)
        build_pub_tables(con, settings)  # the warehouse as the pipeline left it
    assert f"park_monthly {alone.park_id} {alone.period} water_municipal_m3: published" in str(refused.value)
    assert not (releases["package"] / "9.9.9").exists()


def test_the_plan_made_park_by_park_is_the_plan_of_the_whole_warehouse(releases):
    """No relation joins two parks' cells: planning each park alone (what the pipeline does, to hold one
    park's contributions at a time) withholds exactly what planning them together does, history
    included (the two releases of the package)."""
    settings = releases["settings"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        by_park = withheld_rows(con, releases["package"])
        together = plan_disclosure(con, releases["package"]).rows()
    assert by_park == together
    assert len({park for _resource, park, *_rest in by_park}) >= 2, "cells withheld in two parks at least"


def test_parks_read_together_give_each_park_the_hidden_cells_it_has_alone(releases):
    """The plan reads several parks' contributions in one query (`park_batches`): each park still gets
    exactly its own cells, whether the parks are read all at once, one per query, or alone."""
    settings = releases["settings"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert len(park_batches(con)) == 1 and len(park_batches(con, limit=1)) >= 2
        together = dict(hidden_cells_by_park(con))
        one_per_read = dict(hidden_cells_by_park(con, limit=1))
        alone = {park_id: hidden_cells(con, park_id) for park_id in together}
    assert together == one_per_read == alone
    assert all(cell[0] == park_id for park_id, cells in together.items() for cell in cells)
    assert sum(map(len, together.values())) > 100, "the demo's parks have hidden cells to compare"
