"""The `edge-app` command. Each command group lives in its own module and imports heavy
libraries only inside its commands, so `edge-app --help` stays instant."""

from __future__ import annotations

import sys
from typing import Any

import typer

try:  # Typer vendors Click since 0.2x; older releases depend on it
    from typer._click import exceptions as click
except ImportError:  # pragma: no cover
    from click import exceptions as click  # type: ignore[no-redef]

from edge_app import __version__
from edge_app.errors import EdgeAppError, Interrupted
from edge_app.printable import printable

app = typer.Typer(
    name="edge-app",
    help="Real-time camera classifier for edge devices: quantized MobileNetV2 on live video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"edge-app {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


def _register() -> None:
    from edge_app.cli import bench, classify, config, evaluate, info, models, run, service, token, train

    for module in (run, classify, evaluate, train, bench, info, models, config, service, token):
        module.register(app)


_register()


def fail(message: str, code: int = 2) -> typer.Exit:
    print(f"edge-app: error: {printable(message)}", file=sys.stderr)
    return typer.Exit(code)


def plain_flags(command: Any, parent: Any = None) -> None:
    """No "<bool>" beside a flag in --help (--json, --all, -h/--help...): a flag takes no value.
    Applied to the whole command tree once, before anything is parsed or printed."""
    from typer._click import Context

    context = Context(command, parent=parent, **(command.context_settings or {}))  # -h and --help, as the real run has
    for param in [*command.params, command.get_help_option(context)]:
        if param is not None and getattr(param, "is_flag", False) and not param.metavar:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        plain_flags(sub, context)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and a non-zero exit code."""
    command = typer.main.get_command(app)
    plain_flags(command)
    try:
        code = command.main(args=argv, prog_name="edge-app", standalone_mode=False)
    except Interrupted as exc:
        print(f"edge-app: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except EdgeAppError as exc:
        print(f"edge-app: error: {printable(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `edge-app` or `edge-app models` alone: help is the answer
            help_text = exc.format_message()  # empty when Rich has printed the help already
            if help_text:
                print(help_text)
            sys.exit(0)
        where = exc.ctx.command_path if exc.ctx else "edge-app"
        print(f"edge-app: error: {printable(exc.format_message())} (see {where} --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        print(f"edge-app: error: {printable(exc.format_message())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # typer.Abort: Typer >= 0.2x no longer vendors it in _click
        code = 130
    except BrokenPipeError:
        sys.exit(0)
    if code == 130:  # Ctrl-C (recent Typer turns it into this code itself)
        print("edge-app: interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
