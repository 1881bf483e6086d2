"""The web layer sits at the edge: nothing outside edge_app/web, edge_app/cli and app.py imports
it (services hand it routes as edge_app.endpoints data), checked on the import graph of the
source, imports inside functions and under TYPE_CHECKING included."""

from __future__ import annotations

import ast
from pathlib import Path

import edge_app

PACKAGE = Path(edge_app.__file__).resolve().parent
MAY_IMPORT_WEB = ("web/", "cli/", "app.py")
NAMES_IT_BY_STRING = {"sinks/registry.py"}  # the output table names modules, imported only when chosen


def module_of(path: Path) -> str:
    parts = ("edge_app", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module that `source`, the code of `module`, imports, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): imports(
            path.read_text(encoding="utf-8"), module_of(path), is_package=path.name == "__init__.py"
        )
        for path in PACKAGE.rglob("*.py")
    }


def is_web(module: str) -> bool:
    return module == "edge_app.web" or module.startswith("edge_app.web.")


def test_nothing_outside_web_cli_and_app_imports_web() -> None:
    offenders = {
        name: sorted(filter(is_web, modules))
        for name, modules in graph().items()
        if not name.startswith(MAY_IMPORT_WEB) and any(map(is_web, modules))
    }
    assert offenders == {}


def test_the_rule_sees_imports_in_functions_relative_ones_and_type_checking() -> None:
    """The checker itself: it must not miss the ways an import can hide."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..web.routes import find\n"
        "def f():\n    import edge_app.web.hub\n"
        "from . import web\n"
    )
    found = imports(source, "edge_app.teach.probe")
    assert {"edge_app.web.routes", "edge_app.web.hub", "edge_app.teach.web"} <= found
    assert "edge_app.web" in imports("from . import web", "edge_app", is_package=True)


def test_only_the_output_table_names_web_modules_by_string() -> None:
    naming = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if not str(path.relative_to(PACKAGE)).startswith(MAY_IMPORT_WEB)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and is_web(node.value)
    }
    assert naming <= NAMES_IT_BY_STRING
