"""`edge-app config show|init`: the effective settings, and a commented starting file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from edge_app.cli import options as opt
from edge_app.paths import SYSTEM_CONFIG

config_app = typer.Typer(help="Show or create the config file.", no_args_is_help=True)


@config_app.command("show")
def show(
    config: opt.ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings and where each one came from."""
    from edge_app.settings import KEYS, describe, resolve

    settings = resolve({}, config)
    rows = describe(settings)
    if as_json:
        values = {
            f"{key.section}.{key.name}": {
                "value": key.text(settings.value(key.name)),
                "from": settings.origins[key.name],
            }
            for key in KEYS
        }
        print(
            json.dumps(
                {"config_file": str(settings.config_path) if settings.config_path else None, "settings": values},
                indent=2,
            )
        )
        return
    print(f"# config file: {settings.config_path or '(none)'}")
    width = max(len(key) + len(value) for key, value, _ in rows) + 3
    for key, value, origin in rows:
        print(f"{f'{key} = {value}':<{width}}  # {origin}")


@config_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = SYSTEM_CONFIG,
    force: Annotated[bool, typer.Option("--force", metavar="", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented config file with every key at its default."""
    from edge_app.errors import EdgeAppError
    from edge_app.settings import default_config_text

    if path.exists() and not force:
        raise EdgeAppError(f"{path} already exists", "edit it, or pass --force to replace it with the defaults")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
    except OSError as exc:
        raise EdgeAppError(
            f"cannot write {path} ({exc.strerror})", "choose another path, or run with sudo for /etc"
        ) from None
    print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
