"""The package's layers: every import points downward, and no modules import each other.

language < policy < runtime < columnar < batch < service, site < review < api < cli. Every import
counts, a lazy one inside a function included: it is a dependency all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "interpreter"

LAYERS = {
    "language": 0,
    "policy": 1,
    "runtime": 2,
    "columnar": 3,
    "batch": 4,
    "service": 5,
    "site": 5,
    "review": 6,
    "api": 7,
    "cli": 8,
    "__main__": 8,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> set[str]:
    """The package's modules ``name`` imports, anywhere in its body."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def layer(name: str) -> tuple[str, int]:
    parts = name.split(".")
    group = parts[1] if len(parts) > 1 else "api"  # the package's __init__ re-exports the API
    return group, LAYERS[group]


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer(name)


def test_imports_point_downward() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        group, rank = layer(name)
        for target in sorted(targets):
            other, other_rank = layer(target)
            if other == group or other_rank < rank:
                continue
            wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    """Modules never import each other, even through others."""
    graph = GRAPH
    state: dict[str, int] = {}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycles.append(" -> ".join([*trail[trail.index(name) :], name]))
            return
        state[name] = 1
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


@pytest.mark.parametrize("group", ["language", "policy"])
def test_the_model_and_the_language_never_import_the_runtime(group: str) -> None:
    for name, targets in GRAPH.items():
        if layer(name)[0] == group:
            assert not any(t.startswith("interpreter.runtime") for t in targets), name
