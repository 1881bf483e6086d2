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
