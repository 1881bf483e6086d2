"""The `edge-app` command. Each command group lives in its own module and imports heavy
libraries only inside its commands, so `edge-app --help` stays instant."""

from __future__ import annotations

import sys

import typer

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
        False, "--version", metavar="", callback=_version, is_eager=True, help="Print the version and exit."
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


def _typer_error(exc: typer.TyperException) -> None:
    """A command-line mistake as one line. Typer's public API names only the base class of its
    errors, so usage errors are told by the context they carry."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    code = getattr(exc, "exit_code", 2)
    if type(exc).__name__ == "NoArgsIsHelpError":  # `edge-app` or `edge-app models` alone: help is the answer
        if message:  # empty when Rich has printed the help already
            print(message)
        sys.exit(0)
    if hasattr(exc, "ctx"):  # a usage error
        where = exc.ctx.command_path if exc.ctx else "edge-app"
        print(f"edge-app: error: {printable(message)} (see {where} --help)", file=sys.stderr)
    else:
        print(f"edge-app: error: {printable(message)}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and a non-zero exit code."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="edge-app", standalone_mode=False)
    except Interrupted as exc:
        print(f"edge-app: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except EdgeAppError as exc:
        print(f"edge-app: error: {printable(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):  # typer.Abort: Typer >= 0.2x no longer vendors it in _click
        code = 130
    except typer.TyperException as exc:  # Click's errors: a usage mistake (with its context) or another
        _typer_error(exc)
    except BrokenPipeError:
        sys.exit(0)
    if code == 130:  # Ctrl-C (recent Typer turns it into this code itself)
        print("edge-app: interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
