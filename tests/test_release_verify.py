"""Signed, verifiable releases: signature, `instep verify`, the provenance statement, fresh builds."""

from __future__ import annotations

import filecmp
import hashlib
import json
import re
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from instep.cli import main
from instep.release import publish_release
from instep.release.checksums import release_files
from instep.release.provenance import PROVENANCE_NAME
from instep.release.signing import (
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    SigningError,
    generate_key,
    private_key_path,
    public_key_path,
    public_key_pem,
)
from instep.release.verify import verify_release
from instep.settings import Settings
from tests.conftest import AS_OF, write_registry
from tests.release_helpers import BASE_RESOURCES, RELEASE_DATE, frictionless_validate, prepare

SUBMISSION = (
    "facility_id,period,metric,value,unit\n"
    "ET-HAW-F001,2024-01,energy.electricity.grid,1000,kWh\n"
    "VN-TST-F001,2024-01,energy.electricity.grid,2000,kWh\n"
)


def _workspace(root: Path) -> Settings:
    settings = Settings(workspace=root / "ws", datapackages_dir=root / "datapackages", as_of=AS_OF)
    write_registry(settings.registry_dir)
    settings.inbox_dir.mkdir(parents=True)
    (settings.inbox_dir / "2024-02-05_submission.csv").write_text(SUBMISSION, encoding="utf-8")
    prepare(settings)
    return settings


def _publish(settings: Settings):
    return publish_release(settings, version="1.0.0", release_date=RELEASE_DATE, resources=BASE_RESOURCES)


@pytest.fixture
def released(tmp_path: Path):
    settings = _workspace(tmp_path / "one")
    return settings, _publish(settings)


def test_a_release_is_signed_verifies_and_keeps_its_private_key_out(released, tmp_path: Path):
    settings, release = released
    assert verify_release(release.path).ok
    # The first release of a workspace without a key made one, private to its owner.
    key = private_key_path(settings)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (release.path / PUBLIC_KEY_NAME).read_bytes() == public_key_path(settings).read_bytes()
    secret = key.read_bytes()
    body = secret.split(b"-----")[2].strip()
    published = settings.datapackages_dir
    assert all(body not in p.read_bytes() for p in published.rglob("*") if p.is_file())
    assert frictionless_validate(release.path).returncode == 0

    result = CliRunner().invoke(main, ["verify", str(release.path)])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output and "NOT" not in result.output
    trusted = CliRunner().invoke(main, ["verify", str(release.path), "--key", str(public_key_path(settings))])
    assert trusted.exit_code == 0 and "the trusted key given" in trusted.output


def test_one_changed_byte_in_any_file_fails_verification_naming_the_file(released, tmp_path: Path):
    _, release = released
    names = release_files(release.path)
    assert {"SHA256SUMS", SIGNATURE_NAME, PUBLIC_KEY_NAME, PROVENANCE_NAME, "datapackage.json"} <= set(names)
    for name in names:
        copy = tmp_path / "copy" / name.replace("/", "_")
        shutil.copytree(release.path, copy)
        target = copy / name
        data = bytearray(target.read_bytes())
        middle = len(data) // 2
        data[middle] = (data[middle] + 1) % 256
        target.write_bytes(bytes(data))
        result = verify_release(copy)
        assert not result.ok, name
        named = {p.file.split("!")[0] for p in result.problems}
        if name == "SHA256SUMS":
            # Its signature no longer matches, and the file whose line changed no longer matches it.
            assert SIGNATURE_NAME in named, result.problems
        elif name == PUBLIC_KEY_NAME:
            assert named & {PUBLIC_KEY_NAME, SIGNATURE_NAME}, result.problems
        else:
            assert name in named, (name, result.problems)
        cli = CliRunner().invoke(main, ["verify", str(copy)])
        assert cli.exit_code == 1 and "NOT verified" in cli.output
        shutil.rmtree(copy)


def test_a_file_added_to_a_release_is_named(released):
    _, release = released
    (release.path / "data" / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    problems = verify_release(release.path).problems
    assert [(p.file, p.message) for p in problems] == [
        ("data/extra.csv", "present but not listed in SHA256SUMS")
    ]


def test_a_signature_by_another_key_fails(released, tmp_path: Path):
    _, release = released
    other = Ed25519PrivateKey.generate()
    sums = (release.path / "SHA256SUMS").read_bytes()
    (release.path / SIGNATURE_NAME).write_bytes(other.sign(sums))
    result = verify_release(release.path)
    assert [p.file for p in result.problems] == [SIGNATURE_NAME]
    # A forger who also swaps the public key passes the release's own key, never the trusted one.
    (release.path / PUBLIC_KEY_NAME).write_bytes(public_key_pem(other.public_key()))
    assert verify_release(release.path).ok
    trusted = tmp_path / "trusted.pub"
    trusted.write_bytes(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    cli = CliRunner().invoke(main, ["verify", str(release.path), "--key", str(trusted)])
    assert cli.exit_code == 1 and SIGNATURE_NAME in cli.output


def test_two_fresh_workspaces_build_identical_releases_apart_from_signature_and_key(released, tmp_path):
    first_settings, first = released
    second_settings = _workspace(tmp_path / "two")
    second = _publish(second_settings)
    names = release_files(first.path)
    assert names == release_files(second.path)
    different = [n for n in names if not filecmp.cmp(first.path / n, second.path / n, shallow=False)]
    assert different == [SIGNATURE_NAME, PUBLIC_KEY_NAME]
    assert private_key_path(first_settings).read_bytes() != private_key_path(second_settings).read_bytes()


def test_provenance_statement_names_every_input_and_no_clock_time(released):
    settings, release = released
    text = (release.path / PROVENANCE_NAME).read_text(encoding="utf-8")
    statement = json.loads(text)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    for name in ("datapackage.json", "data/parks.csv", "data/changes.csv", "instep-open-data.duckdb"):
        assert subjects[name] == hashlib.sha256((release.path / name).read_bytes()).hexdigest()
    dependencies = {d["name"]: d for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
    archived = [p for p in settings.archive_dir.iterdir() if p.is_file()]
    assert len(archived) == 1
    entry = dependencies[f"archive/{archived[0].name}"]
    assert entry["digest"]["sha256"] == hashlib.sha256(archived[0].read_bytes()).hexdigest()
    assert "instep/reference/grid_factors.csv" in dependencies and "instep/rubric/v1.csv" in dependencies
    assert isinstance(dependencies["source"]["annotations"]["git_tree_dirty"], bool)
    assert "duckdb" in statement["predicate"]["runDetails"]["builder"]["version"]
    # The release date is the only date: no clock time anywhere.
    assert re.findall(r"\d{4}-\d{2}-\d{2}", text) == [RELEASE_DATE]
    # Listed in SHA256SUMS and packed in the zip like every data file.
    assert PROVENANCE_NAME in (release.path / "SHA256SUMS").read_text(encoding="utf-8")


def test_keygen_makes_a_key_refuses_to_overwrite_and_rotates(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("INSTEP_WORKSPACE", str(tmp_path / "ws"))
    runner = CliRunner()
    made = runner.invoke(main, ["keygen"])
    assert made.exit_code == 0, made.output
    settings = Settings.from_env()
    first = public_key_path(settings).read_bytes()
    again = runner.invoke(main, ["keygen"])
    assert again.exit_code == 2 and "--rotate" in again.output
    with pytest.raises(SigningError):
        generate_key(settings)
    rotated = runner.invoke(main, ["keygen", "--rotate"])
    assert rotated.exit_code == 0
    assert public_key_path(settings).read_bytes() != first
    retired = sorted(p.name for p in (private_key_path(settings).parent / "retired").iterdir())
    assert len(retired) == 2 and any(n.endswith(".pub") for n in retired)
