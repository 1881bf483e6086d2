"""`edge-app config show|init`: the effective settings, and a commented starting file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

config_app = typer.Typer(help="Show or create the config file.", no_args_is_help=True)
ConfigPath = Annotated[Optional[Path], typer.Option("--config", "-c", help="Config file (default: $EDGE_APP_CONFIG, else /etc/edge-app/config.toml if it exists).")]


@config_app.command("show")
def show(config: ConfigPath = None, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings and where each one came from."""
    from edge_app.settings import describe, resolve

    settings = resolve({}, config)
    rows = describe(settings)
    if as_json:
        print(json.dumps({"config_file": str(settings.config_path) if settings.config_path else None,
                          "settings": {key: {"value": settings.values[key.split(".")[1]], "from": origin} for key, _, origin in rows}}, indent=2))
        return
    print(f"# config file: {settings.config_path or '(none)'}")
    width = max(len(key) + len(value) for key, value, _ in rows) + 3
    for key, value, origin in rows:
        print(f"{f'{key} = {value}':<{width}}  # {origin}")


@config_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Where to write it.")] = Path("/etc/edge-app/config.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
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
        raise EdgeAppError(f"cannot write {path} ({exc.strerror})", "choose another path, or run with sudo for /etc") from None
    print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
