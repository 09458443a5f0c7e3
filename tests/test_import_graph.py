"""The layers read one way: the domain (`instep`, `expectations`) knows nothing of Dagster's assets or
the code location, `assets` nothing of `pipelines`, and no module or package imports itself in a circle.

The graph is read from the source with `ast`, imports inside functions included: an import deferred to
call time still ties the layers together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from instep.settings import REPO_ROOT

PACKAGES = ("instep", "expectations", "assets", "pipelines")
# Which project packages each may import: the domain none of the Dagster layers.
ALLOWED = {
    "instep": {"instep", "expectations"},
    "expectations": {"instep", "expectations"},
    "assets": {"instep", "expectations", "assets"},
    "pipelines": {"instep", "expectations", "assets", "pipelines"},
}
HIDDEN_IMPORTS = ("importlib", "__import__")
# importlib.metadata reads installed package versions; it imports nothing.
HIDDEN_ALLOWED = {"importlib.metadata"}
# Circles the code may still have: none. A new circle fails; an exception listed here fails once its
# circle is gone, so that it is removed with it.
KNOWN_MODULE_CYCLES: list[list[str]] = []
KNOWN_PACKAGE_CYCLES: list[list[str]] = []


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` is (or lies in): `instep.disclosure.rules` or its package."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_names(module: str, path: Path) -> Iterable[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from a import b` imports module a.b when there is one, else a name of a
                yield f"{base}.{alias.name}", node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    modules = module_files()
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for module, path in modules.items():
        for name, line in imported_names(module, path):
            target = resolve(name, modules)
            if target is not None and target != module:
                graph[module].setdefault(target, line)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def unit_of(module: str) -> str:
    """What a package-level circle is made of: the top-level packages, and inside `instep` (the domain)
    each subpackage and each flat module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "instep" else parts[0]


def test_the_graph_is_read_from_every_module():
    graph = import_graph()
    assert "instep.cli" in graph and "pipelines.cli" in graph and "assets.resources" in graph
    # a sanity check of the reader itself: known edges are found, relative and absolute
    assert "instep.settings" in graph["pipelines.cli"]
    assert "assets.resources" in graph["assets.ingest"]


@pytest.mark.parametrize("layer", PACKAGES)
def test_each_layer_imports_only_the_layers_below_it(layer: str):
    wrong = [
        f"{module} imports {target} (line {line})"
        for module, targets in import_graph().items()
        if module.split(".")[0] == layer
        for target, line in targets.items()
        if target.split(".")[0] not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_in_a_circle():
    graph = {module: set(targets) for module, targets in import_graph().items()}
    found = cycles(graph)
    assert [cycle for cycle in found if cycle not in KNOWN_MODULE_CYCLES] == []
    assert [cycle for cycle in KNOWN_MODULE_CYCLES if cycle not in found] == [], "remove the exception"


def test_no_package_imports_itself_in_a_circle():
    graph: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        for target in targets:
            if unit_of(target) != unit_of(module):
                graph.setdefault(unit_of(module), set()).add(unit_of(target))
    found = cycles(graph)
    assert [cycle for cycle in found if cycle not in KNOWN_PACKAGE_CYCLES] == []
    assert [cycle for cycle in KNOWN_PACKAGE_CYCLES if cycle not in found] == [], "remove the exception"


def test_no_import_is_hidden_from_this_graph():
    hidden = [
        f"{path.relative_to(REPO_ROOT)} line {node.lineno}"
        for module, path in module_files().items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (
            isinstance(node, ast.Import)
            and any(
                a.name.split(".")[0] in HIDDEN_IMPORTS and a.name not in HIDDEN_ALLOWED for a in node.names
            )
        )
        or (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in HIDDEN_IMPORTS
            and node.module not in HIDDEN_ALLOWED
            and not (
                node.module == "importlib"
                and all(f"importlib.{a.name}" in HIDDEN_ALLOWED for a in node.names)
            )
        )
        or (isinstance(node, ast.Name) and node.id == "__import__")
    ]
    assert not hidden, "imports made at run time by name: " + ", ".join(hidden)


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
