"""The package's import graph: no circles between files, and the layers that do the work (pipeline,
learning, models, regions, the runtime) never reach up into the web layer, the CLI or the installer.

Read from the source with ast. Imports for type checking count as edges (a circle the type checker
sees is a circle in the design); imports made lazily inside a function count for the layers only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import edge_app

ROOT = Path(edge_app.__file__).parent
LOWER: tuple[str, ...] = ("edge_app.pipeline", "edge_app.train", "edge_app.teach", "edge_app.model", "edge_app.regions")
LOWER += ("edge_app.runtime",)
UPPER = ("edge_app.web", "edge_app.cli", "edge_app.install")


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(module: str, tree: ast.Module, top_level_only: bool) -> Iterator[str]:
    """Modules `module` imports (relative names resolved); top level: at module level, including
    `if TYPE_CHECKING:` and try/except blocks, not inside functions."""
    package = module if (ROOT.parent / module.replace(".", "/") / "__init__.py").exists() else module.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
            elif isinstance(node, ast.If | ast.Try) and top_level_only:
                for block in (node.body, node.orelse, *(h.body for h in getattr(node, "handlers", ()))):
                    yield from visit(block)
                yield from visit(getattr(node, "finalbody", []))
            elif not top_level_only:
                yield from visit([child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)])

    yield from visit(tree.body)


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    trees = {_module(path): ast.parse(path.read_text(), str(path)) for path in ROOT.rglob("*.py")}
    return {module: _known(module, _imports(module, tree, top_level_only), trees) for module, tree in trees.items()}


def _known(module: str, names: Iterator[str], trees: dict[str, ast.Module]) -> set[str]:
    """The package's own modules among `names`, less `module`'s parent packages (Python loads those
    first whatever the file says, so `from edge_app.pipeline import live` in a file of the pipeline
    is an edge to live, not back to the package)."""
    parents = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)}
    return {name for name in names if name in trees and name != module and name not in parents}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports, if there is any (depth-first, colouring the files as it goes)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for child in sorted(graph[node]):
            if child in on_path:
                return [*path[path.index(child) :], child]
            if child not in done and (found := visit(child)) is not None:
                return found
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (found := visit(start)) is not None:
            return found
    return None


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_the_cycle_finder_finds_a_circle_and_accepts_a_tree() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_file_imports_itself_back_as_it_loads() -> None:
    graph = _graph(top_level_only=True)
    assert len(graph) > 100  # the whole package was read
    assert _cycle(graph) is None


def test_the_lower_layers_never_import_the_web_the_cli_or_the_installer() -> None:
    graph = _graph(top_level_only=False)
    wrong = sorted(
        f"{module} -> {name}"
        for module, names in graph.items()
        if _within(module, LOWER)
        for name in names
        if _within(name, UPPER)
    )
    assert wrong == []


def test_package_folders_have_no_circle_between_them() -> None:
    """settings <-> sinks and pipeline <-> sinks were such circles: folders depend one way. (A
    folder is a sub-package; the single-file modules beside them, e.g. bus.py, are not nodes.)"""
    graph = _graph(top_level_only=True)
    packages = {m for m in graph if (ROOT.parent / m.replace(".", "/") / "__init__.py").exists() and "." in m}

    def folder(module: str) -> str | None:
        name = ".".join(module.split(".")[:2])
        return name if name in packages else None

    folders: dict[str, set[str]] = {name: set() for name in packages}
    for module, names in graph.items():
        own = folder(module)
        if own is not None:
            folders[own].update(f for name in names if (f := folder(name)) is not None and f != own)
    assert len(folders) > 10
    assert _cycle(folders) is None
