"""Proof of progress, one per pipeline thread: the pipeline beats them, systemd's watchdog reads them.

A thread beats on every loop turn: after real work, after a bounded wait that timed out with
nothing to do (idle is progress) and between reconnect attempts (retrying is progress). A thread
stuck inside a driver call stops beating. Living here, not in the service package, it keeps the
pipeline free of anything systemd-specific.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Heartbeat:
    """The last moment one thread proved it was alive. beat() is a single float store: cheap, lock-free."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()

    def age(self) -> float:
        return max(0.0, self._clock() - self._last)
