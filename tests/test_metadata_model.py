"""The metadata model describes every table: the warehouse after a run, the registry, the release
database and the constraint checks all agree with it, and no other module declares a table's columns."""

from __future__ import annotations

import ast
import csv
import re
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from instep.metadata import docs
from instep.metadata.about import ABOUT
from instep.metadata.catalog import warehouse_table, warehouse_tables
from instep.metadata.checks import constraint_checks, run_constraint_checks
from instep.metadata.ledger import SUBMISSION_FILES
from instep.metadata.model import Field, ForeignKey, Resource, table_ddl
from instep.metadata.registry import REGISTRY_FACILITIES, REGISTRY_PARKS
from instep.metadata.resources import FACILITIES, PARKS, RESOURCES
from instep.registry import FACILITY_COLUMNS, PARK_COLUMNS, RegistryError, read_registry
from instep.settings import REPO_ROOT, Settings
from instep.warehouse import connect
from tests.conftest import AS_OF
from tests.release_helpers import frictionless_validate

VERSION = "1.0.0"
PARKS_CSV = """park_id,name,country,region,lat,lon,operator,area_ha,established
ET-HAW,Test Lakeside Park,ET,Sidama,7.05,38.47,Test Operator,300,2016-07-01
VN-TST,Test River Park,VN,Nam Dinh,20.4,106.2,,200,
"""
FACILITIES_CSV = """facility_id,park_id,name,type,sector,os_id,disclosure,active_from,active_to
ET-HAW-F001,ET-HAW,Alpha Garments,factory,garment,ET2024123ABCDEF,public,2020-01-01,
ET-HAW-F002,ET-HAW,Beta Dyeing,factory,wet_processing,,aggregate_only,2020-01-01,2024-06-30
ET-HAW-C001,ET-HAW,Lakeside CETP,cetp,,,public,2020-01-01,
VN-TST-F001,VN-TST,Gamma Knits,factory,knitting,,public,2021-01-01,2025-12-31
"""
# Two rows accepted, one rejected (unknown facility): every ledger table gets rows.
SUBMISSION_CSV = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,120,MWh\n"
    "ET-HAW-F001,2024-01,water.recycled,10,m3\n"
    "ET-HAW-F009,2024-01,water.recycled,10,m3\n"
)


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, dict[str, bool]]:
    """One run of the chain up to the release, with every asset check: the workspace, the release
    folder and the outcome of each check."""
    from assets import ASSET_CHECKS, ASSETS
    from assets.resources import InstepWorkspace
    from pipelines.runs import release_run_config

    root = tmp_path_factory.mktemp("model")
    settings = Settings(workspace=root / "ws", datapackages_dir=root / "datapackages", as_of=AS_OF)
    settings.registry_dir.mkdir(parents=True)
    (settings.registry_dir / "parks.csv").write_text(PARKS_CSV, encoding="utf-8")
    (settings.registry_dir / "facilities.csv").write_text(FACILITIES_CSV, encoding="utf-8")
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "alpha.csv").write_text(SUBMISSION_CSV, encoding="utf-8")
    chain = [a for a in ASSETS if "site" not in set(a.group_names_by_key.values())]
    result = dg.materialize(
        [*chain, *ASSET_CHECKS],
        resources={"instep": InstepWorkspace.from_settings(settings)},
        run_config=release_run_config(VERSION, "2026-11-25"),
        raise_on_error=False,
    )
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert result.success, checks
    return settings, settings.datapackages_dir / settings.package_name / VERSION, checks


# --- the warehouse and the registry against the model ----------------------------------------------------


def test_the_warehouse_after_a_run_has_exactly_the_tables_and_columns_of_the_model(released):
    settings, _, _ = released
    with connect(settings, read_only=True) as con:
        actual = _columns_by_table(con)
    tables = {table.name: table for table in warehouse_tables()}
    assert sorted(actual) == sorted(tables)
    for name, table in tables.items():
        assert [(column, data_type) for column, data_type, _ in actual[name]] == [
            (f.name, f.duckdb_type) for f in table.fields
        ], name
        if _enforced(table):
            # The registry and ledger are declared with their NOT NULL constraints.
            nullable = {column: flag == "YES" for column, _, flag in actual[name]}
            assert nullable == {f.name: f.name not in table.required_names for f in table.fields}, name


def _enforced(table: Resource) -> bool:
    return not table.name.startswith(("out_", "pub_")) and table.name != "disclosure_withheld"


def _columns_by_table(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str, str]]]:
    out: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, data_type, nullable in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall():
        out.setdefault(table, []).append((column, data_type, nullable))
    return out


def test_the_registry_files_have_the_columns_of_the_model(tmp_path: Path):
    assert PARK_COLUMNS == REGISTRY_PARKS.field_names == PARKS.field_names
    assert REGISTRY_FACILITIES.field_names == FACILITY_COLUMNS
    assert [f for f in REGISTRY_FACILITIES.fields if f.name != "disclosure"] == list(FACILITIES.fields)
    (tmp_path / "parks.csv").write_text(PARKS_CSV.replace("2016-07-01", "2016"), encoding="utf-8")
    (tmp_path / "facilities.csv").write_text(FACILITIES_CSV, encoding="utf-8")
    with pytest.raises(RegistryError, match=r"parks.csv line 2: established '2016' is not a date YYYY-MM-DD"):
        read_registry(tmp_path)


def test_every_constraint_check_passes_on_the_run(released):
    _, _, checks = released
    expected = {f"{table.name}_constraints" for table in warehouse_tables()}
    assert expected <= set(checks)
    assert all(checks[name] for name in expected), sorted(n for n in expected if not checks[n])
    # The checks that existed before keep their names.
    assert {"archive_intact", "row_states_add_up", "observations_pass_suite", "scores_within_bounds"} <= set(
        checks
    )


# --- the constraint checks -----------------------------------------------------------------------------

PLANTS = Resource(
    name="plants",
    title="Plants",
    description="A table to break.",
    fields=(
        Field("plant_id", "string", "Id.", required=True, pattern=r"^P\d$"),
        Field("site_id", "string", "Site.", required=True),
        Field("kind", "string", "Kind.", enum=("boiler", "solar")),
        Field("serial", "string", "Serial.", unique=True),
    ),
    primary_key=("plant_id",),
    foreign_keys=(ForeignKey(("site_id",), "sites", ("site_id",)),),
)


def test_constraint_checks_count_the_rows_breaking_each_constraint():
    con = duckdb.connect()
    con.execute("CREATE TABLE sites (site_id VARCHAR PRIMARY KEY)")
    con.execute("INSERT INTO sites VALUES ('S1')")
    # Declared without constraints, so that broken rows can be inserted at all.
    con.execute(table_ddl("plants", [Field(f.name, f.type, "") for f in PLANTS.fields], ()))
    con.execute("INSERT INTO plants VALUES ('P1', 'S1', 'boiler', 'A'), ('P2', 'S1', NULL, NULL)")
    assert {o.check.name: o.failing_rows for o in run_constraint_checks(con, PLANTS)} == {
        "not_null(plant_id)": 0,
        "not_null(site_id)": 0,
        "unique(plant_id)": 0,
        "unique(serial)": 0,
        "enum(kind)": 0,
        "pattern(plant_id)": 0,
        "foreign_key(site_id)": 0,
    }
    con.execute(
        "INSERT INTO plants VALUES ('P1', NULL, 'wind', 'A'), ('Q7', 'S9', 'solar', 'B'), "
        "(NULL, 'S1', NULL, NULL)"
    )
    failing = {o.check.name: o.failing_rows for o in run_constraint_checks(con, PLANTS) if o.failing_rows}
    assert failing == {
        "not_null(plant_id)": 1,
        "not_null(site_id)": 1,
        "unique(plant_id)": 2,
        "unique(serial)": 2,
        "enum(kind)": 1,
        "pattern(plant_id)": 1,
        "foreign_key(site_id)": 1,
    }


def test_constraints_duckdb_holds_are_not_counted_again_and_the_rest_still_are():
    con = duckdb.connect()
    con.execute("CREATE TABLE sites (site_id VARCHAR PRIMARY KEY)")
    con.execute("INSERT INTO sites VALUES ('S1')")
    con.execute(table_ddl("plants", PLANTS.fields, PLANTS.primary_key, enforce=True))
    # held by DuckDB: the key and the required site; the pattern and the foreign key are not
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO plants VALUES ('P1', NULL, 'boiler', 'A')")
    con.execute("INSERT INTO plants VALUES ('P1', 'S1', 'boiler', 'A'), ('Q7', 'S9', 'solar', 'B')")
    outcomes = {o.check.name: (o.failing_rows, o.enforced) for o in run_constraint_checks(con, PLANTS)}
    assert outcomes == {
        "not_null(plant_id)": (0, True),
        "not_null(site_id)": (0, True),
        "unique(plant_id)": (0, True),
        "unique(serial)": (0, True),
        "enum(kind)": (0, False),
        "pattern(plant_id)": (1, False),
        "foreign_key(site_id)": (1, False),
    }


def test_the_ledger_ddl_enforces_the_model_where_duckdb_can():
    con = duckdb.connect()
    con.execute(
        table_ddl("submission_files", SUBMISSION_FILES.fields, SUBMISSION_FILES.primary_key, enforce=True)
    )
    row = [
        "S-0123456789abcdef",
        "a" * 64,
        "a.csv",
        "archive/a.csv",
        "csv",
        1,
        "ingested",
        None,
        None,
        3,
        None,
    ]
    con.execute("INSERT INTO submission_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    for column, value in (("format", "xls"), ("original_name", None), ("file_hash", "a" * 64)):
        broken = list(row)
        broken[0] = "S-fedcba9876543210"
        broken[5] = 2
        broken[SUBMISSION_FILES.field_names.index(column)] = value
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO submission_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", broken)
    assert len(constraint_checks(SUBMISSION_FILES)) > len(SUBMISSION_FILES.fields)


# --- one declaration of every table's columns ------------------------------------------------------------

CREATE_WITH_COLUMNS = re.compile(
    r"CREATE\s+(OR\s+REPLACE\s+)?TABLE\s+(IF\s+NOT\s+EXISTS\s+)?[\"\w{}]+\s*\(", re.I
)
SOURCE_DIRS = ("instep", "assets", "pipelines", "expectations")


def _string_parts(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            _string_parts(v) if not isinstance(v, ast.FormattedValue) else "{}" for v in node.values
        )
    return ""


def _declared_lists(tree: ast.Module) -> list[ast.Tuple | ast.List]:
    """Literal tuples and lists assigned to names of a module or class: what declares a constant."""
    found: list[ast.Tuple | ast.List] = []
    bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for body in bodies:
        for statement in body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and isinstance(
                statement.value, (ast.Tuple, ast.List)
            ):
                found.append(statement.value)
    return found


def column_declarations(source: str) -> list[str]:
    """CREATE TABLE literals with a column list anywhere, and constant tuples or lists of four or more
    strings that are all columns of one table of the model (and at least half of them)."""
    tables = [set(t.field_names) for t in (*warehouse_tables(), *RESOURCES, ABOUT)]
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        text = _string_parts(node)
        if text and CREATE_WITH_COLUMNS.search(text):
            found.append(f"line {node.lineno}: {text[:60]!r}")
    for node in _declared_lists(tree):
        names = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if len(names) == len(node.elts) >= 4 and any(
            set(names) <= columns and 2 * len(names) >= len(columns) for columns in tables
        ):
            found.append(f"line {node.lineno}: {names}")
    return found


def test_the_declaration_check_finds_a_create_table_and_a_column_tuple():
    assert column_declarations('DDL = "CREATE TABLE IF NOT EXISTS parks (park_id VARCHAR)"')
    assert column_declarations('con.execute(f"CREATE OR REPLACE TABLE {name} (a INT)")')
    assert column_declarations('COLUMNS = ("park_id", "name", "country", "region", "lat")')
    assert not column_declarations('con.execute("CREATE OR REPLACE TEMP TABLE _x AS SELECT 1")')
    assert not column_declarations('KEY = ("facility_id", "period", "metric")')
    # Selecting columns is not declaring them.
    assert not column_declarations('frame[["park_id", "name", "country", "region", "lat"]]')


def test_no_module_outside_the_metadata_model_declares_a_tables_columns():
    offenders = {}
    for directory in SOURCE_DIRS:
        for path in sorted((REPO_ROOT / directory).rglob("*.py")):
            if path.is_relative_to(REPO_ROOT / "instep" / "metadata"):
                continue
            found = column_declarations(path.read_text(encoding="utf-8"))
            if found:
                offenders[str(path.relative_to(REPO_ROOT))] = found
    assert offenders == {}


def test_contributing_lists_the_warehouse_tables_of_the_model():
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert docs.with_generated_section(text) == text, "run: .venv/bin/python -m instep.metadata.docs"
    for table in docs.DOCUMENTED_TABLES:
        assert f"### `{table.name}`" in text
        assert all(f"| `{f.name}` |" in text for f in table.fields)


# --- the release database (#16.1) ------------------------------------------------------------------------


def _descriptor(release: Path) -> dict:
    import json

    return json.loads((release / "datapackage.json").read_text(encoding="utf-8"))


def test_the_release_database_describes_every_table_and_column_and_holds_its_keys(released):
    _, release, _ = released
    descriptor = _descriptor(release)
    con = duckdb.connect(str(release / descriptor["database"]["path"]), read_only=True)
    comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
    column_comments = {
        (t, c): comment
        for t, c, comment in con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns()"
        ).fetchall()
    }
    keys = con.execute(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table, "
        "referenced_column_names FROM duckdb_constraints() "
        "WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"
    ).fetchall()
    for entry in descriptor["resources"]:
        name, schema = entry["name"], entry["schema"]
        assert comments[name] == f"{entry['title']}. {entry['description']}"
        for field in schema["fields"]:
            comment = column_comments[(name, field["name"])]
            assert comment.startswith(field["description"])
            if "unit" in field:
                assert comment.endswith(f"Unit: {field['unit']}.")
        assert (name, "PRIMARY KEY", schema["primaryKey"], None, []) in keys
        for fk in schema.get("foreignKeys", []):
            ref = fk["reference"]
            assert (name, "FOREIGN KEY", fk["fields"], ref["resource"], ref["fields"]) in keys
    assert len([k for k in keys if k[1] == "FOREIGN KEY"]) == sum(
        len(e["schema"].get("foreignKeys", [])) for e in descriptor["resources"]
    )
    (about,) = con.execute("SELECT * FROM about").fetchall()
    row = dict(zip([d[0] for d in con.description], about, strict=True))
    assert row["package"] == descriptor["name"] and row["version"] == VERSION == descriptor["version"]
    assert row["licence"] == descriptor["licenses"][0]["name"]
    assert row["synthetic"] is descriptor["synthetic"]
    assert row["release_date"] == date(2026, 11, 25)
    assert row["citation_bibtex"] == (release / "CITATION.bib").read_text(encoding="utf-8")
    assert comments["about"] and all(column_comments[("about", f.name)] for f in ABOUT.fields)
    con.close()


def test_the_parquet_files_keep_the_description_and_unit_of_every_field(released):
    _, release, _ = released
    for resource in RESOURCES:
        schema = pq.read_schema(release / "data" / f"{resource.name}.parquet")
        for field in resource.fields:
            metadata = schema.field(field.name).metadata
            assert metadata[b"description"] == field.description.encode()
            assert metadata.get(b"unit") == (field.unit.encode() if field.unit else None)


def test_the_release_validates(released):
    _, release, _ = released
    outcome = frictionless_validate(release)
    assert outcome.returncode == 0, outcome.stdout[-2000:]


# --- registry fields survive (#16.2) ---------------------------------------------------------------------


def _typed(field: Field, text: str) -> object:
    if text == "":
        return None
    if field.type == "date":
        return date.fromisoformat(text)
    if field.type == "number":
        return float(text)
    return text


@pytest.mark.parametrize("resource", [PARKS, FACILITIES], ids=lambda r: r.name)
def test_the_release_holds_the_registry_rows_with_their_values_and_types(released, resource):
    settings, release, _ = released
    registry = read_registry(settings.registry_dir)
    source = (
        registry.parks
        if resource is PARKS
        else [f for f in registry.facilities if f["disclosure"] == "public"]
    )
    key = resource.primary_key[0]
    expected = {row[key]: {f.name: _typed(f, row[f.name]) for f in resource.fields} for row in source}
    assert any(isinstance(v, date) for row in expected.values() for v in row.values())

    with (release / "data" / f"{resource.name}.csv").open(encoding="utf-8", newline="") as handle:
        from_csv = {
            row[key]: {f.name: _typed(f, row[f.name]) for f in resource.fields}
            for row in csv.DictReader(handle)
        }
    assert from_csv == expected

    from_parquet = {
        row[key]: row for row in pq.read_table(release / "data" / f"{resource.name}.parquet").to_pylist()
    }
    assert from_parquet == expected

    con = duckdb.connect(str(release / _descriptor(release)["database"]["path"]), read_only=True)
    relation = con.execute(f"SELECT * FROM {resource.name}")
    names = [d[0] for d in relation.description]
    from_duckdb = {row[0]: dict(zip(names, row, strict=True)) for row in relation.fetchall()}
    types = dict(
        con.execute(
            f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{resource.name}'"
        ).fetchall()
    )
    con.close()
    assert from_duckdb == expected
    assert {name: types[name] for name in resource.field_names} == {
        f.name: f.duckdb_type for f in resource.fields
    }


def test_a_key_held_by_another_check_names_a_blocking_check_and_is_not_scanned(tmp_path: Path):
    from pipelines.definitions import build_defs

    defs = build_defs(Settings(workspace=tmp_path / "ws", datapackages_dir=tmp_path / "dp"))
    blocking = {
        spec.name for checks in defs.asset_checks or () for spec in checks.check_specs if spec.blocking
    }
    held = [(table, fk) for table in warehouse_tables() for fk in table.foreign_keys if fk.held_by]
    assert held, "no key of the model is held by another check"
    for table, fk in held:
        assert fk.held_by in blocking, (table.name, fk)
    # the constraint check reports it as held instead of joining: the referenced table is not even there
    table, fk = held[0]
    con = duckdb.connect()
    for name in (table.name, *(other.resource for other in table.foreign_keys if not other.held_by)):
        model = warehouse_table(name)
        con.execute(table_ddl(model.name, model.fields, model.primary_key, enforce=True))
    outcome = next(
        o
        for o in run_constraint_checks(con, table)
        if o.check.kind == "foreign_key" and o.check.columns == fk.fields
    )
    assert (outcome.failing_rows, outcome.held_by) == (0, fk.held_by)
