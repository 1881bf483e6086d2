"""User text made safe to print in a log line, the journal or a terminal.

A source name, a class name, an environment variable's name: whatever a user (or a hostile
client) typed can hold a newline that forges a second log line, an ESC that drives the terminal,
or a bidi override that reverses what is read. Each such character is written as its escape
(\\n, \\x1b, \\u202e), so one record stays one line, and says exactly what was given.
"""

from __future__ import annotations

import logging
import re

# C0 and C1 controls, DEL, line and paragraph separators, and the bidi embeddings and isolates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """`text` with every control, line-breaking and bidi character escaped; others unchanged."""
    return _UNSAFE.sub(_escape, text)


class EscapingFormatter(logging.Formatter):
    """A formatter whose records' messages are escaped (a traceback that follows keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)
