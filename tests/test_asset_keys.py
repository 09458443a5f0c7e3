"""Asset keys say their layer and match their tables; they are defined once, in `assets.keys`, and the
steward guide's changelog maps every old key to its new one."""

from __future__ import annotations

import ast
import re

import dagster as dg

from assets import keys
from instep.settings import REPO_ROOT
from pipelines.definitions import build_defs

LAYERS = {"raw", "warehouse", "reports", "indicators", "published", "site"}


def defined_keys() -> set[dg.AssetKey]:
    return {value for value in vars(keys).values() if isinstance(value, dg.AssetKey)}


def test_every_asset_of_the_code_location_has_a_key_from_the_keys_module():
    assert set(build_defs().resolve_all_asset_keys()) == defined_keys()


def test_every_key_is_a_layer_and_a_name():
    for key in defined_keys():
        layer, name = key.path  # exactly two parts
        assert layer in LAYERS, key
        assert re.fullmatch(r"[a-z_]+", name), key


def test_the_indicator_keys_are_their_tables():
    for key in defined_keys():
        if key.path[0] == "indicators":
            assert keys.table_of(key).startswith("out_"), key


def test_no_module_types_a_key_of_its_own():
    typed = []
    for folder in ("assets", "pipelines"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            if path == REPO_ROOT / "assets" / "keys.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                called = node.func if isinstance(node, ast.Call) else None
                name = getattr(called, "attr", None) or getattr(called, "id", None)
                if name == "AssetKey":
                    typed.append(f"{path.relative_to(REPO_ROOT)} line {node.lineno}")
    assert not typed, "AssetKey built outside assets/keys.py: " + ", ".join(typed)


def test_the_steward_changelog_maps_every_old_key_to_its_new_one():
    guide = (REPO_ROOT / "site" / "steward" / "index.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([a-z_/]+)` \|$", guide, re.M))
    assert rows == {old: new.to_user_string() for old, new in keys.RENAMED_FROM.items()}
    assert set(keys.RENAMED_FROM.values()) == defined_keys()
