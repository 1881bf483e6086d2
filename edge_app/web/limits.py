"""How much the live view server holds at once, and how it says it is shedding (pure logic).

A connection costs a file descriptor while it is open, and a thread only while a request on
it is being answered. So connections that are still sending their headers, or idle between
keep-alive requests, are held without a thread (see accept), up to a cap sized from the
descriptor limit; the requests themselves are answered by at most `workers` threads.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass

RESERVED_FDS = 64  # for the rest of the process: camera, model, pipes, log, recorder, reconnects
WORKERS = 64  # requests answered at once; an MJPEG viewer holds one for as long as it watches
MAX_HELD = 8192


@dataclass(frozen=True)
class Limits:
    backlog: int = 512  # the kernel's listen queue: a burst waits there, not refused
    workers: int = WORKERS
    held: int = 1024 - RESERVED_FDS - WORKERS  # connections held without a thread
    header_s: float = 10.0  # a request's whole header, or an idle keep-alive, within this
    header_bytes: int = 32 * 1024
    wait_s: float = 10.0  # a complete request waits this long for a free worker, then gets 503
    body_s: float = 60.0  # a request's whole body within this (uploads)


def limits_for(open_files: int, workers: int = WORKERS) -> Limits:
    """Limits below the process's descriptor limit, with room left for everything else."""
    held = max(16, min(MAX_HELD, open_files - RESERVED_FDS - workers))
    return Limits(workers=workers, held=held)


def open_file_limit(default: int = 1024) -> int:
    """The soft RLIMIT_NOFILE (what accept() runs into)."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return default
    return MAX_HELD * 2 if soft == resource.RLIM_INFINITY else int(soft)


def header_end(data: bytes | bytearray, start: int = 0) -> int:
    """Where the header block ends (just past its blank line), or -1 while it has not; `start`
    skips what an earlier call scanned. Lines may end in CRLF or, as http.server accepts, LF."""
    ends = [i + len(mark) for mark in (b"\n\r\n", b"\n\n") if (i := data.find(mark, start)) >= 0]
    return min(ends) if ends else -1


class ShedLog:
    """One warning when the server starts shedding connections, then at most one summary every
    `every_s` while it goes on: a flood must not flood the journal too."""

    def __init__(self, warn: Callable[[str], None], every_s: float = 60.0) -> None:
        self._warn = warn
        self._every_s = every_s
        self._counts: dict[str, int] = {}
        self._quiet_until = float("-inf")

    def note(self, reason: str, now: float) -> None:
        self._counts[reason] = self._counts.get(reason, 0) + 1
        if now >= self._quiet_until:
            self._report("shedding connections", now)

    def flush(self, now: float) -> None:
        """Call now and then: reports what was shed since the last warning, once it is due."""
        if self._counts and now >= self._quiet_until:
            self._report(f"still shedding connections in the last {self._every_s:g} s", now)

    def due(self, now: float) -> float | None:
        """Seconds until flush() has something to say; None when nothing is pending."""
        return max(0.0, self._quiet_until - now) if self._counts else None

    def _report(self, what: str, now: float) -> None:
        detail = ", ".join(f"{count} {reason}" for reason, count in self._counts.items())
        self._warn(f"live view: {what}: {detail}")
        self._counts = {}
        self._quiet_until = now + self._every_s
