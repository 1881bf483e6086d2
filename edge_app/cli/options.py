"""Command-line options built from the settings schema, so every command that shares an option
(`--model`, `--threads`, ...) shares its one help text, its checks and its default."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from edge_app.paths import SYSTEM_CONFIG
from edge_app.settings import BY_NAME, Key


def _allowed(key: Key) -> str:
    return f" One of: {', '.join(map(str, key.choices))}." if key.choices else ""


def _default(key: Key) -> str:
    if key.default is None:
        return ""
    shown = (key.flag if key.default else f"--no-{key.flag[2:]}") if key.kind is bool else key.text(key.default)
    return f" Default: {shown}."


def option(key: Key, *, given_only: bool = True, panel: str | None = None) -> Any:
    """An Annotated type for `key`. `given_only`: the default is None, so the caller can tell an
    option the user typed from one left to the config file (as `run` must)."""
    decls = [f"{key.flag}/--no-{key.flag[2:]}"] if key.kind is bool else [key.flag]
    if key.short:
        decls.append(key.short)
    kind: Any = key.kind | None if given_only or key.optional else key.kind
    bounded = key.kind in (int, float) and not given_only
    return Annotated[
        kind,
        typer.Option(
            *decls,
            help=key.help + _allowed(key) + _default(key),
            show_default=False,
            metavar="" if key.kind is bool else None,
            rich_help_panel=panel or key.panel,
            min=key.minimum if bounded else None,
            max=key.maximum if bounded else None,
        ),
    ]


def parameter(name: str, *, given_only: bool = True) -> inspect.Parameter:
    """A keyword parameter for a command built from the schema (see cli/run.py)."""
    key = BY_NAME[name]
    default = None if given_only else key.default
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option(key, given_only=given_only)
    )


Model = option(BY_NAME["model"])
Labels = Annotated[Path | None, typer.Option("--labels", help=BY_NAME["labels"].help)]
RuntimeName = option(BY_NAME["runtime"], given_only=False)
Delegate = option(BY_NAME["delegate"])
Device = option(BY_NAME["device"])
Threads = option(BY_NAME["threads"], given_only=False)
Resize = option(BY_NAME["resize"], given_only=False)
TopK = option(BY_NAME["top_k"], given_only=False)
Threshold = option(BY_NAME["threshold"], given_only=False)
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help=f"TOML config file. Default: $EDGE_APP_CONFIG, else {SYSTEM_CONFIG} if it exists."
    ),
]
