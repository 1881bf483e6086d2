"""`edge-app run`: the live classifier.

Its options are built from the settings schema (edge_app/settings/schema.py): one option per
setting, with the setting's help, so a new setting appears here by itself. Options left out
fall through to EDGE_APP_* variables, the config file and the defaults.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer

from edge_app.cli import options as opt
from edge_app.settings import KEYS


def run(config: Path | None = None, **given: Any) -> None:
    """Classify live video: camera, file, stream or folder, with an annotated live view.

    Example: edge-app run --camera 0 --http 0.0.0.0:8080, then open http://<pi>:8080/
    """
    from edge_app.app import RunLoop

    code = RunLoop(given, config).main()
    if code:
        raise typer.Exit(code)


def _signature() -> inspect.Signature:
    config = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=opt.ConfigFile)
    return inspect.Signature([config, *(opt.parameter(key.name) for key in KEYS)])


run.__signature__ = _signature()  # type: ignore[attr-defined]
run.__annotations__ = {name: parameter.annotation for name, parameter in run.__signature__.parameters.items()}  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    app.command()(run)
