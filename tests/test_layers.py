"""Every arrow points toward the core: the import rules of the layout, read from the source with ``ast``.

Every import counts: at module level, inside functions, under ``TYPE_CHECKING``. The rules:
- ``spyglass`` (the core) imports no other package of the repository;
- ``edge`` and ``devstack`` import no ``functions`` module (the local host loads function_app.py by path);
- only ``tests`` and ``function_app.py`` import ``functions`` (besides ``functions`` itself);
- no import cycles between the modules of a package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("spyglass", "edge", "functions", "devstack", "bench", "tests")
# the repository's own top-level names, as an import spells them (infra/ is the package spyglass_infra)
OWN = {*PACKAGES, "function_app", "infra", "spyglass_infra"}
# Loops known and being removed, by package (each entry an xfail(strict) mark, dropped once the loop is gone);
# none today
KNOWN_LOOPS: dict[str, tuple[str, ...]] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def modules() -> dict[str, Path]:
    """Every module of the repository's Python packages (and function_app.py), by dotted name."""
    found = {"function_app": REPO / "function_app.py"}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[_module_name(path)] = path
    for path in sorted((REPO / "infra").rglob("*.py")):
        if "__pycache__" not in path.parts and ".venv" not in path.parts:
            found["infra." + _module_name(path).removeprefix("infra.")] = path
    return found


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names one import statement brings in.

    ``from x import y`` brings in ``x.y`` (a module or a name in one) and ``x`` itself unless every name
    is a submodule: ``from . import signalr`` is an import of the submodule, not of the package.
    """
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        names = [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
        submodules = [n for n in names if n in modules()]
        if len(submodules) < len(node.names):  # names defined in ``base`` itself: it is imported for them
            yield base
        yield from names


@lru_cache(maxsize=1)
def imports() -> dict[str, set[str]]:
    """module -> every dotted name it imports anywhere in its source."""
    out: dict[str, set[str]] = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        out[name] = {n for node in ast.walk(tree) for n in _imported(node, name, is_package) if n}
    return out


def _own(name: str) -> str | None:
    """The repository module an imported name refers to (the deepest that exists), or None."""
    known = modules()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def _top(name: str) -> str:
    return name.split(".")[0]


def _offenders(importers: str | tuple[str, ...], forbidden: set[str]) -> list[str]:
    prefixes = (importers,) if isinstance(importers, str) else importers
    return sorted(f"{m} imports {n}" for m, names in imports().items() if _top(m) in prefixes
                  for n in names if _top(n) in forbidden)


def test_the_reader_sees_every_kind_of_import():
    """The rules below would pass vacuously if the reader missed imports: check it on known ones."""
    got = imports()
    assert "spyglass.wire.queue" in got["functions.ingest"]  # module level
    assert "edge.collector.replay" in got["edge.collector.app"]  # inside a function
    assert "functions.storage" in got["functions.api"]  # `from functions import storage`: the submodule
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import c\n")
    assert {n for node in ast.walk(tree) for n in _imported(node, "p.a", False)} >= {"typing", "p.b", "p.b.c"}
    tree = ast.parse("from . import invoke")
    assert set(_imported(tree.body[0], "devstack.host.queues", False)) == {"devstack.host.invoke"}


def test_the_core_imports_no_other_package_of_the_repository():
    assert _offenders("spyglass", OWN - {"spyglass"}) == []


def test_edge_and_devstack_import_no_functions_module():
    assert _offenders(("edge", "devstack"), {"functions", "function_app"}) == []


def test_the_evaluation_reads_labels_never_the_simulator():
    """label/1 (spyglass.labels) is all the evaluation and the simulator share: any producer can be scored."""
    assert "spyglass.evaluate.score" in imports()
    assert sorted(f"{m} imports {n}" for m, names in imports().items() if m.startswith("spyglass.evaluate")
                  for n in names if n.startswith("spyglass.sim")) == []


def test_only_the_app_and_the_tests_import_functions():
    assert _offenders(tuple(p for p in (*PACKAGES, "infra") if p not in ("functions", "tests")),
                      {"functions", "function_app"}) == []


def cycles(package: str) -> list[list[str]]:
    """The import cycles among ``package``'s modules."""
    return loops({m: {t for n in names if (t := _own(n)) and _top(t) == package and t != m}
                  for m, names in imports().items() if _top(m) == package})


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of two or more nodes (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the packages are small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _known(component: list[str], package: str) -> bool:
    return all(m.startswith(KNOWN_LOOPS.get(package, ("\0",))) for m in component)


def test_the_cycle_finder_finds_loops_through_any_number_of_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": {"a"}}
    assert loops(graph) == [["a", "b", "c"], ["d", "e"]]
    assert loops({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", ["spyglass", "edge", "functions", "devstack", "bench"])
def test_no_import_cycles_besides_the_known_ones(package):
    assert [c for c in cycles(package) if not _known(c, package)] == []


@pytest.mark.parametrize("package", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=f"known loop in {', '.join(KNOWN_LOOPS[p])}, "
                                                                "removed by another branch of issue 12"))
    if p in KNOWN_LOOPS else p
    for p in ("spyglass", "edge", "functions", "devstack", "bench")])
def test_no_import_cycles(package):
    assert cycles(package) == []
