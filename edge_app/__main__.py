"""`edge-app` and `python -m edge_app`: signals are handled from the first instant.

Importing the CLI (Typer, every command's options) takes a moment, longer on a Pi; a signal in
that moment would otherwise exit 143 (SIGTERM) or print a KeyboardInterrupt traceback (Ctrl-C).
`run` installs its own handlers as its very first step (edge_app.app.RunLoop.main).
"""

from __future__ import annotations

import signal
import sys


def _stopped_before_start(_signum: int, _frame: object) -> None:
    raise SystemExit(0)  # `run` is a service: stopped before it began is a clean stop


def main() -> None:
    if sys.argv[1:2] == ["run"]:
        signal.signal(signal.SIGTERM, _stopped_before_start)
    try:
        from edge_app.cli import main as cli_main
    except KeyboardInterrupt:
        print("edge-app: interrupted", file=sys.stderr)
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
