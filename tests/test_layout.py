"""The layout rule: every import between the project's rooms points down, and no modules import
each other in a circle (issue 15).

The rooms, lowest first; a room may import the rooms below it, never one above or beside it:

    ingest < rag.models < rag.settings < rag.store < rag.index < rag.collection, rag.answer
           < rag.library (with rag.remote) < ui, eval < training (eval's datasets), rag.cli

`rag.collection` and `rag.answer` sit side by side (neither imports the other), as do `ui` and
`eval`, and `training` and `rag.cli`. Every import counts: at module level, inside a function and
under `if TYPE_CHECKING:` (answering names the library it reads through the `rag.answer.reader`
protocol, not by importing it). On top of that, nothing under `rag/` imports `ui`, `eval` or
`training` at module level: the command line reaches them inside the commands that run them, so
that `import rag.cli` stays light.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ingest", "ui", "eval", "training")

RULES: dict[str, set[str]] = {
    "ingest": set(),
    "rag.models": {"ingest"},
    "rag.settings": {"rag.models"},
    "rag.store": {"rag.settings"},
    "rag.index": {"rag.store"},
    "rag.collection": {"rag.index"},
    "rag.answer": {"rag.index"},
    "rag.library": {"rag.collection", "rag.answer"},
    "ui": {"rag.library"},
    "eval": {"rag.library"},
    "training": {"rag.library", "eval"},
    "rag.cli": {"ui", "eval"},
}
"""Each room and the rooms directly below it; what a room may import is everything reachable down."""

TOP_LEVEL_ROOMS = {"rag.library": "rag.library", "rag.remote": "rag.library", "rag.settings": "rag.settings"}
"""Modules directly under rag/ and their rooms: `RemoteLibrary` stands in for `Library`."""

ENTRY_POINTS = {"ui", "eval", "training"}
"""Rooms that nothing under rag/ may import at module level."""


def below(rules: dict[str, set[str]]) -> dict[str, set[str]]:
    """Every room each room may import: the transitive closure of `rules`."""
    out: dict[str, set[str]] = {}

    def reach(room: str, seen: tuple[str, ...] = ()) -> set[str]:
        if room in seen:
            raise ValueError(f"the rules go round: {' -> '.join(seen + (room,))}")
        if room not in out:
            out[room] = set()
            for lower in rules[room]:
                out[room] |= {lower} | reach(lower, seen + (room,))
        return out[room]

    for room in rules:
        reach(room)
    return out


def room_of(module: str) -> str | None:
    """The room a dotted module name lives in, or None for anything outside the project."""
    parts = module.split(".")
    if parts[0] != "rag":
        return parts[0] if parts[0] in PACKAGES else None
    if len(parts) == 1:
        return "rag"
    if f"rag.{parts[1]}" in TOP_LEVEL_ROOMS:
        return TOP_LEVEL_ROOMS[f"rag.{parts[1]}"]
    return f"rag.{parts[1]}"


def module_name(path: Path) -> str:
    """`rag/answer/asking.py` -> `rag.answer.asking`; a package's `__init__.py` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> list[tuple[str, int, bool]]:
    """The project modules a file imports: (module, line, at module level). `from a.b import c`
    counts as importing `a.b.c` when that is a module, else `a.b`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append((alias.name, child.lineno, top))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in modules else base, child.lineno, top))
            visit(child, inner)

    visit(tree, True)
    return [(m, line, top) for m, line, top in found if room_of(m) is not None]


def project_graph() -> tuple[dict[str, list[tuple[str, int, bool]]], dict[str, Path]]:
    """Every project module and the project modules it imports."""
    paths = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
    return {m: imports_of(p, set(paths)) for m, p in paths.items()}, paths


def upward_imports(graph: dict[str, list[tuple[str, int, bool]]], rules: dict[str, set[str]]) -> list[str]:
    """Each import from one room to a room that is not below it, as `a (room) -> b (room) line n`."""
    allowed = below(rules)
    bad = []
    for module, targets in graph.items():
        mine = room_of(module)
        for target, line, _ in targets:
            theirs = room_of(target)
            if mine in (None, "rag") or theirs in (None, "rag") or theirs == mine:
                continue
            if mine not in allowed:
                bad.append(f"{module}: room {mine} is not in RULES")
            elif theirs not in allowed[mine]:
                bad.append(f"{module} ({mine}) -> {target} ({theirs}), line {line}")
    return bad


def cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """The import circles between modules: each strongly connected group of more than one module
    (or a module importing itself), as one path around it."""
    edges = {m: sorted({t for t, _, _ in targets if t in graph}) for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:  # Tarjan's algorithm
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges[v]:
                groups.append(_path_round(sorted(group), edges))

    for v in sorted(edges):
        if v not in index:
            strongconnect(v)
    return groups


def _path_round(group: list[str], edges: dict[str, list[str]]) -> list[str]:
    """One circle through the group's first module, found by a breadth-first walk inside it."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in edges[v]:
            if w == start:
                return paths[v] + [start]
            if w in members and w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return group


def test_no_upward_imports() -> None:
    graph, _ = project_graph()
    assert upward_imports(graph, RULES) == []


def test_no_import_circles() -> None:
    graph, _ = project_graph()
    assert [" -> ".join(c) for c in cycles(graph)] == []


def test_rag_never_imports_entry_points_at_module_level() -> None:
    graph, _ = project_graph()
    bad = [f"{m} -> {t}, line {line}" for m, targets in graph.items() if m.startswith("rag")
           for t, line, top in targets if top and room_of(t) in ENTRY_POINTS]
    assert bad == []


def test_every_module_has_a_room() -> None:
    graph, paths = project_graph()
    loose = [m for m in graph if room_of(m) not in RULES and m != "rag"]
    assert loose == [], "a module outside every room: add its room to RULES (or move it into one)"


def test_every_rag_subpackage_says_what_it_owns() -> None:
    packages = sorted(p.parent for p in (ROOT / "rag").glob("*/__init__.py"))
    assert {p.name for p in packages} >= {"models", "store", "index", "collection", "answer", "cli"}
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc.split()) >= 15, f"{package.relative_to(ROOT)}/__init__.py needs a docstring"


# ------------------------------------------------- the checks themselves can fail
SYNTHETIC = {
    "rag.store.store": [("rag.index.nodes", 3, True)],              # store reaching up into the index
    "rag.index.nodes": [("rag.store.store", 5, True)],               # ... and back: a circle
    "rag.answer.a": [("rag.answer.b", 1, False)],
    "rag.answer.b": [("rag.answer.c", 1, True)],
    "rag.answer.c": [("rag.answer.a", 1, True)],                     # a circle inside one room
    "rag.answer.d": [("rag.collection.ingestion", 2, True)],         # sideways: answer -> collection
    "rag.collection.ingestion": [("rag.store.store", 4, True)],      # down: fine
    "rag.cli.commands": [("ui.app", 9, False), ("rag.library", 1, True)],  # down, lazily: fine
}


def test_the_checks_catch_a_synthetic_upward_import_and_circles() -> None:
    assert upward_imports(SYNTHETIC, RULES) == [
        "rag.store.store (rag.store) -> rag.index.nodes (rag.index), line 3",
        "rag.answer.d (rag.answer) -> rag.collection.ingestion (rag.collection), line 2",
    ]
    assert cycles(SYNTHETIC) == [["rag.answer.a", "rag.answer.b", "rag.answer.c", "rag.answer.a"],
                                 ["rag.index.nodes", "rag.store.store", "rag.index.nodes"]]


def test_rules_that_go_round_are_refused() -> None:
    with pytest.raises(ValueError, match="go round"):
        below({"a": {"b"}, "b": {"a"}})
