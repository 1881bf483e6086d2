"""Logging that suits where stderr goes.

Under systemd, stderr is a journald stream ($JOURNAL_STREAM names it): each line gets a "<N>"
syslog priority prefix, so `journalctl -p warning` works, and no timestamp (journald adds
its own). On a terminal or in a file: a readable line with the time.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from edge_app.errors import EdgeAppError
from edge_app.printable import EscapingFormatter

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"


def syslog_priority(levelno: int) -> int:
    """Python level -> syslog priority: 2 critical, 3 error, 4 warning, 6 info, 7 debug."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class JournalFormatter(EscapingFormatter):
    """Prefixes every line, so a traceback's lines keep the priority of the record they belong to;
    the message itself is one line whatever user text it holds."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def is_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """True when `stream` is the very journald stream systemd connected ($JOURNAL_STREAM=dev:inode).

    Comparing dev:inode matters: a child whose stderr was redirected to a file still inherits
    the variable, and must not write priority prefixes into that file.
    """
    value = environ.get("JOURNAL_STREAM", "")
    dev, sep, inode = value.partition(":")
    if not (sep and dev.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # closed, or not a real file (pytest capture, StringIO)
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(inode))


def parse_level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.strip().lower()]
    except KeyError:
        raise EdgeAppError(f"unknown log level {level!r}", f"use one of {', '.join(LEVELS)}") from None


def setup_logging(
    level: str | int = "info", stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> logging.Handler:
    """Configure the root logger once; calling again (e.g. after SIGHUP) replaces our handler."""
    levelno = parse_level(level)  # before touching anything: a bad level changes nothing
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    handler = logging.StreamHandler(stream)
    if is_journal(stream, environ):
        handler.setFormatter(JournalFormatter(JOURNAL_FORMAT))
    else:
        handler.setFormatter(EscapingFormatter(HUMAN_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.set_name("edge-app")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "edge-app"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(levelno)
    return handler
