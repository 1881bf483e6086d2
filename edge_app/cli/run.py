"""`edge-app run`: the live classifier.

Its options are built from the settings schema (edge_app/settings/): one option per setting,
with the setting's help, so a new setting appears here by itself. Options left out fall
through to EDGE_APP_* variables, the config file and the defaults.

Typer reads a command's options from its function's signature and offers no other public way
to declare them, so the signature is made from the schema once, here, as a plain
`inspect.Signature` (docs/architecture.md, "The command line").
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from edge_app.cli import options as opt
from edge_app.settings import KEYS

Regions = Annotated[
    list[str] | None,
    typer.Option(
        "--region",
        help="A region of the (first) camera to classify on its own, NAME=x0,y0,x1,y1 in fractions of the frame;"
        " repeatable. More settings per region: \\[regions.NAME] in the config file.",
        metavar="NAME=BOX",
        rich_help_panel=opt.INPUT,
    ),
]


def run(config: Path | None = None, region: list[str] | None = None, **given: Any) -> None:
    """Classify live video: camera, file, stream or folder, with an annotated live view.

    Example: edge-app run --camera 0 --http 0.0.0.0:8080, then open http://<pi>:8080/
    """
    from edge_app.app import RunLoop

    code = RunLoop(given, config, regions=tuple(region or ())).main()
    if code:
        raise typer.Exit(code)


def _signature() -> inspect.Signature:
    keyword = inspect.Parameter.KEYWORD_ONLY
    fixed = [
        inspect.Parameter("config", keyword, default=None, annotation=opt.ConfigFile),
        inspect.Parameter("region", keyword, default=None, annotation=Regions),
    ]
    return inspect.Signature([*fixed, *(opt.parameter(key.name) for key in KEYS)])


def register(app: typer.Typer) -> None:
    run.__signature__ = _signature()  # type: ignore[attr-defined]
    app.command()(run)
