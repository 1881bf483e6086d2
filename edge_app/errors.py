"""Errors a user can fix.

They are printed as one line (what is wrong, then what to do) with a non-zero exit code,
never as a traceback. Anything else escaping to the CLI is a bug in edge-app.
"""

from __future__ import annotations


class EdgeAppError(Exception):
    """A problem with the user's input or machine, with a hint on how to fix it."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class Interrupted(EdgeAppError):
    """Ctrl-C during a long command, saying how far it got ("interrupted after 37 of 100 photos").
    Raised from the KeyboardInterrupt, as an EdgeAppError so the CLI framework passes it on."""

    exit_code = 130

    def __init__(self, done: int, total: int, unit: str) -> None:
        super().__init__(f"interrupted after {done} of {total} {unit}")
        self.done, self.total, self.unit = done, total, unit


def first_line(exc: BaseException) -> str:
    """A library's error, trimmed to its first line for a one-line message."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def warn(message: str) -> None:
    """A one-line warning on stderr, for commands that run without logging set up (user text in
    it escaped: it stays one line)."""
    import sys

    from edge_app.printable import printable

    print(f"edge-app: warning: {printable(message)}", file=sys.stderr)
